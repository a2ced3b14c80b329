//! Every tool answers `--version` (and `-V`) on stdout with exit status 0,
//! in the daemon's form.

use std::process::Command;

#[test]
fn every_tool_prints_its_version() {
    let want = format!("{} (Spread 5.0.1 protocol)", env!("CARGO_PKG_VERSION"));
    for (tool, bin) in [
        ("spuser", env!("CARGO_BIN_EXE_spuser")),
        ("spflooder", env!("CARGO_BIN_EXE_spflooder")),
        ("splatency", env!("CARGO_BIN_EXE_splatency")),
        ("spmonitor", env!("CARGO_BIN_EXE_spmonitor")),
    ] {
        for flag in ["--version", "-V"] {
            let out = Command::new(bin).arg(flag).output().unwrap();
            assert!(out.status.success(), "{tool} {flag}: {out:?}");
            let text = String::from_utf8(out.stdout).unwrap();
            assert_eq!(text.trim_end(), format!("{tool} {want}"), "{tool} {flag}");
        }
    }
}
