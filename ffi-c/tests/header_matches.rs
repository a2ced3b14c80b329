//! The prototypes in include/ are the functions the library exports: cbindgen
//! writes the library's own view of every exported function, and a C
//! compiler must accept it after sp.h and fl.h (any difference in a
//! signature is a "conflicting types" error); every SP_/E_/FL_ function of
//! the headers must be among the exported ones.

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generated_header(out: &Path) -> String {
    let config =
        cbindgen::Config::from_file(crate_dir().join("cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(crate_dir())
        .with_config(config)
        .generate()
        .expect("cbindgen runs on ffi-c")
        .write_to_file(out);
    std::fs::read_to_string(out).unwrap()
}

/// Names of the functions a header declares (`SP_x(` / `E_x(` / `FL_x(`).
fn declared(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim_start().starts_with("#define"))
    {
        for (i, _) in line.match_indices('(') {
            let head = &line[..i];
            let name: String = head
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            if ["SP_", "E_", "FL_"].iter().any(|p| name.starts_with(p)) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn every_prototype_matches_the_exported_function() {
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let generated = generated_header(&out_dir.join("spread_generated.h"));
    let include = crate_dir().join("../include");
    let headers: String = ["sp_func.h", "sp_events.h", "fl.h"]
        .iter()
        .map(|h| std::fs::read_to_string(include.join(h)).unwrap())
        .collect();
    let ours = declared(&headers);
    let exported = declared(&generated);
    assert!(
        ours.len() >= 60,
        "found only {} prototypes in include/: {ours:?}",
        ours.len()
    );
    let missing: Vec<_> = ours.iter().filter(|n| !exported.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "declared in include/ but not exported: {missing:?}\n{generated}"
    );
    let extra: Vec<_> = exported.iter().filter(|n| !ours.contains(n)).collect();
    assert!(
        extra.is_empty(),
        "exported but not declared in include/: {extra:?}"
    );

    let check = out_dir.join("header_check.c");
    std::fs::write(
        &check,
        "#include <sp.h>\n#include <fl.h>\n#include \"spread_generated.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let cc = Command::new("cc")
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            // `char x[32]` and `char *x` are one parameter type; gcc only
            // warns about the notation.
            "-Wno-array-parameter",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg("-I")
        .arg(&out_dir)
        .arg(&check)
        .output()
        .expect("a C compiler (cc)");
    assert!(
        cc.status.success(),
        "include/ and the library disagree:\n{}\n--- generated ---\n{generated}",
        String::from_utf8_lossy(&cc.stderr)
    );
}
