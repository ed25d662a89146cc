# results.tsv (driver, version, policy, user, tls, outcome, ...) as a Markdown matrix: one row a
# driver, one column a policy/account/TLS; a cell `ok` or the error code the driver reported.
BEGIN { FS = "\t" }
NR == 1 { next }
{
  key = $3 " " $4 " " $5
  if (!(key in seen)) { seen[key] = 1; cols[++ncols] = key }
  if (!($1 in version)) { rows[++nrows] = $1; version[$1] = $2 }
  cell = $6
  if (cell != "ok") { split(cell, part, " "); cell = "**" part[2] "**" }
  cells[$1, key] = cell
}
END {
  line = "| driver | version |"
  rule = "| --- | --- |"
  for (c = 1; c <= ncols; c++) {
    split(cols[c], k, " ")
    line = line " " k[1] "<br>" k[2] "<br>TLS " k[3] " |"
    rule = rule " --- |"
  }
  print line
  print rule
  for (r = 1; r <= nrows; r++) {
    line = "| " rows[r] " | " version[rows[r]] " |"
    for (c = 1; c <= ncols; c++) line = line " " cells[rows[r], cols[c]] " |"
    print line
  }
}
