//! `--pages`: bench rows on small and huge pages end in the same state, and say which
//! pages they had; where the kernel has no huge pages, the flag says why and exits 1.
//! Without the flag, huge pages where the kernel offers them, else small ones and why.

mod common;
use common::sim;

fn huge_pages_on() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|s| s.contains("[always]") || s.contains("[madvise]"))
}

/// Runs `sim bench` on a small world with `extra` flags and returns its output and the
/// JSON rows' `pages`; `name` keeps each test's JSON file apart.
fn bench_pages(name: &str, extra: &[&str]) -> (std::process::Output, Vec<String>) {
    let json = std::env::temp_dir().join(format!("sim-pages-{}-{name}.json", std::process::id()));
    let mut args = vec![
        "bench",
        "--particles",
        "2000",
        "--steps",
        "10",
        "--layout",
        "soa",
        "--lock",
        "sharded",
        "--padding",
        "padded",
        "--threads",
        "2",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = sim(&args);
    let pages = std::fs::read_to_string(&json)
        .map(|text| {
            let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
            let rows = rows.as_array().unwrap().iter();
            rows.map(|r| r["pages"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    std::fs::remove_file(&json).ok();
    (out, pages)
}

#[test]
fn without_the_flag_pages_are_huge_where_the_kernel_offers_them() {
    let (out, pages) = bench_pages("default", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    if huge_pages_on() {
        assert_eq!(pages, ["huge"], "{stderr}");
        assert!(!stderr.contains("huge pages cannot be had"), "{stderr}");
    } else {
        assert_eq!(pages, ["small"], "{stderr}");
        assert!(stderr.contains("huge pages cannot be had"), "{stderr}");
        assert!(stderr.contains("transparent_hugepage"), "{stderr}");
    }
    // `run` takes the same default, and succeeds either way.
    let run = sim(&["run", "--frames", "2", "--particles", "2000"]);
    assert_eq!(run.status.code(), Some(0), "{run:?}");
}

#[test]
fn bench_rows_on_both_page_sizes_agree_and_name_their_pages() {
    let (out, pages) = bench_pages("both", &["--pages", "small,huge"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !huge_pages_on() {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("--pages: pages = huge"), "{stderr}");
        assert!(stderr.contains("transparent_hugepage"), "{stderr}");
        eprintln!("skipped the comparison: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("determinism: all 2 rows"), "{stdout}");
    assert_eq!(pages, ["small", "huge"]);
}
