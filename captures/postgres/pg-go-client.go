// The Go clients of captures/postgres (see common.sh), each with its driver's default settings:
//   pg-go-client pgx PORT     github.com/jackc/pgx/v4 (pgx.Connect, QueryRow, Close)
//   pg-go-client lib-pq PORT  github.com/lib/pq through database/sql (sql.Open, QueryRow, Close)
// connect to 127.0.0.1:PORT as harness/harness to database harness, run `select 1` and print the
// value. Built in GOPATH mode from Debian's packages (golang-github-jackc-pgx-v4-dev,
// golang-github-lib-pq-dev): GO111MODULE=off GOPATH=/usr/share/gocode go build pg-go-client.go
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/jackc/pgx/v4"
	_ "github.com/lib/pq"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pg-go-client pgx|lib-pq PORT")
		os.Exit(2)
	}
	conninfo := "host=127.0.0.1 port=" + os.Args[2] + " user=harness password=harness dbname=harness"
	var value int
	switch os.Args[1] {
	case "pgx":
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, conninfo)
		if err != nil {
			fail(err)
		}
		if err := conn.QueryRow(ctx, "select 1").Scan(&value); err != nil {
			fail(err)
		}
		if err := conn.Close(ctx); err != nil {
			fail(err)
		}
	case "lib-pq":
		db, err := sql.Open("postgres", conninfo)
		if err != nil {
			fail(err)
		}
		if err := db.QueryRow("select 1").Scan(&value); err != nil {
			fail(err)
		}
		if err := db.Close(); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown driver %s", os.Args[1]))
	}
	fmt.Println(value)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
