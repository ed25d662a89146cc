//! Writes a large pcap of MSNP sessions for the import benchmark:
//! `cargo run --release --example make_capture -- FILE SIZE_MB`.

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(size_mb)) =
        (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: make_capture FILE SIZE_MB");
        std::process::exit(2);
    };
    let sessions =
        harness::capture::synth::write_msnp_capture(std::path::Path::new(path), size_mb << 20)?;
    println!("wrote {path}: {sessions} sessions");
    Ok(())
}
