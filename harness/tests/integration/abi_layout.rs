//! The Rust mirror and the checked-in C header must agree on every struct
//! size and field offset: the C compiler is asked, field by field.

use crate::common::{cc, workspace};
use std::process::Command;
use trustbench_plugin::abi::layout_table;

#[test]
fn rust_mirror_matches_the_c_header() {
    assert_layout("trustbench_plugin.h", &layout_table());
}

#[test]
fn rust_mirror_matches_the_env_provider_header() {
    assert_layout(
        "trustbench_env.h",
        &trustbench_plugin::env_abi::layout_table(),
    );
}

/// Every size and offset of `rows` as the C compiler sees `header`.
fn assert_layout(header: &str, rows: &[(&str, &str, usize)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut src = format!(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"{header}\"\nint main(void) {{\n"
    );
    for (ty, field, _) in rows {
        let expr = if *field == "sizeof" {
            format!("sizeof({ty})")
        } else {
            format!("offsetof({ty}, {field})")
        };
        src.push_str(&format!(
            "  printf(\"%s %s %zu\\n\", \"{ty}\", \"{field}\", (size_t){expr});\n"
        ));
    }
    src.push_str("  return 0;\n}\n");
    let c = dir.path().join("layout.c");
    std::fs::write(&c, src).unwrap();
    let exe = dir.path().join("layout");
    let out = Command::new(cc())
        .args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I"])
        .arg(workspace().join("plugins/include"))
        .arg(&c)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(Command::new(&exe).output().unwrap().stdout).unwrap();
    let c_rows: Vec<(String, String, usize)> = printed
        .lines()
        .map(|l| {
            let mut parts = l.split(' ');
            (
                parts.next().unwrap().into(),
                parts.next().unwrap().into(),
                parts.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(c_rows.len(), rows.len());
    for ((ty, field, rust), (_, _, c)) in rows.iter().zip(&c_rows) {
        assert_eq!(
            rust, c,
            "{header}: {ty}.{field}: Rust says {rust}, C says {c}"
        );
    }
}

#[test]
fn header_constants_match_the_mirror() {
    let header =
        std::fs::read_to_string(workspace().join("plugins/include/trustbench_plugin.h")).unwrap();
    use trustbench_plugin::abi::*;
    for (name, value) in [
        ("TB_ABI_MAJOR", TB_ABI_MAJOR as i64),
        ("TB_ABI_MINOR", TB_ABI_MINOR as i64),
        ("TB_OK", TB_OK as i64),
        ("TB_ERROR", TB_ERROR as i64),
        ("TB_BUFFER_TOO_SMALL", TB_BUFFER_TOO_SMALL as i64),
        ("TB_INVALID_ARGUMENT", TB_INVALID_ARGUMENT as i64),
        ("TB_BUDGET_EXHAUSTED", TB_BUDGET_EXHAUSTED as i64),
        ("TB_NOT_FOUND", TB_NOT_FOUND as i64),
    ] {
        assert!(
            header.contains(&format!("#define {name} {value}\n")),
            "{name} = {value} not in the header"
        );
    }
    assert!(
        header.contains("#define TB_SPACE_BOX 1u")
            && header.contains("#define TB_SPACE_DISCRETE 2u")
    );
    let text = |id: &'static [u8]| std::str::from_utf8(&id[..id.len() - 1]).unwrap();
    for (name, value) in [
        ("TB_ENTRY_SYMBOL", TB_ENTRY_SYMBOL),
        ("TB_HOST_EXT_THREADS", TB_HOST_EXT_THREADS),
        (
            "TB_HOST_EXT_BYTE_OBSERVATIONS",
            TB_HOST_EXT_BYTE_OBSERVATIONS,
        ),
    ] {
        let line = format!("#define {name} \"{}\"", text(value));
        assert!(header.contains(&line), "{line} not in the header");
    }
    assert_eq!(TB_BYTE_OBSERVATION_SCALE, 1.0 / 255.0);
    let env_header =
        std::fs::read_to_string(workspace().join("plugins/include/trustbench_env.h")).unwrap();
    use trustbench_plugin::env_abi::*;
    for (name, value) in [
        ("TB_ENV_ABI_MAJOR", TB_ENV_ABI_MAJOR as i64),
        ("TB_ENV_ABI_MINOR", TB_ENV_ABI_MINOR as i64),
    ] {
        let line = format!("#define {name} {value}\n");
        assert!(env_header.contains(&line), "{line} not in trustbench_env.h");
    }
    for (name, value) in [
        ("TB_ENV_FAMILY", TB_ENV_FAMILY),
        ("TB_ENV_OPEN_OPTIONS", TB_ENV_OPEN_OPTIONS),
    ] {
        let line = format!("#define {name} {value}u\n");
        assert!(env_header.contains(&line), "{line} not in trustbench_env.h");
    }
    for (name, value) in [
        ("TB_ENV_ENTRY_SYMBOL", TB_ENV_ENTRY_SYMBOL),
        ("TB_ENV_EXT_RENDER_RGB", TB_ENV_EXT_RENDER_RGB),
        ("TB_ENV_EXT_SNAPSHOT", TB_ENV_EXT_SNAPSHOT),
        ("TB_ENV_EXT_BYTE_OBSERVATIONS", TB_ENV_EXT_BYTE_OBSERVATIONS),
    ] {
        let line = format!("#define {name} \"{}\"", text(value));
        assert!(env_header.contains(&line), "{line} not in trustbench_env.h");
    }
    assert!(header.contains("#define TB_BYTE_OBSERVATION_SCALE (1.0 / 255.0)\n"));
}
