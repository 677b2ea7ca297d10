//! `--pages`: bench rows on small and huge pages end in the same state, and say which
//! pages they had; where the kernel has no huge pages, the flag says why and exits 1.

mod common;
use common::sim;

fn huge_pages_on() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|s| s.contains("[always]") || s.contains("[madvise]"))
}

#[test]
fn bench_rows_on_both_page_sizes_agree_and_name_their_pages() {
    let json = std::env::temp_dir().join(format!("sim-pages-{}.json", std::process::id()));
    let out = sim(&[
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
        "--pages",
        "small,huge",
        "--json",
        json.to_str().unwrap(),
    ]);
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
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let pages: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pages"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["small", "huge"]);
    std::fs::remove_file(&json).ok();
}
