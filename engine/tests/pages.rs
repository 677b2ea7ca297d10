//! `HugePageAlloc` as a program's global allocator: huge pages are granted or refused with
//! the reason, and the advice (huge, then small again) reaches the kernel.

use engine::pages::{self, HugePageAlloc, PageSize};

#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

/// The `VmFlags` of the mapping that holds `addr`, from `/proc/self/smaps`.
fn vm_flags_at(addr: usize) -> Option<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        let range = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&addr);
        } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return Some(flags.trim().to_owned());
        }
    }
    None
}

#[test]
fn a_big_vec_is_advised_onto_huge_pages_when_the_kernel_allows_them() {
    let setting = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled");
    let on = setting
        .as_deref()
        .is_ok_and(|s| s.contains("[always]") || s.contains("[madvise]"));
    match pages::set_page_size(PageSize::Huge) {
        Err(why) => {
            assert!(!on, "the kernel has huge pages on ({setting:?}) but: {why}");
            assert!(why.to_string().contains("transparent_hugepage"), "{why}");
            eprintln!("skipped: {why}");
            return;
        }
        Ok(()) => assert!(on, "huge pages granted though the kernel says {setting:?}"),
    }
    assert_eq!(pages::page_size(), Some(PageSize::Huge));
    // A small block next to the big one keeps its bytes when the big one's pages are
    // dropped before it is handed out.
    let neighbour = vec![7u8; 4000];
    let column = vec![1.5f32; 4 << 20];
    let flags = vm_flags_at(column.as_ptr() as usize).expect("the column's mapping in smaps");
    // `hg`: the mapping was advised MADV_HUGEPAGE.
    assert!(flags.split(' ').any(|f| f == "hg"), "VmFlags {flags}");
    assert!(column.iter().all(|&x| x == 1.5));
    assert!(neighbour.iter().all(|&x| x == 7));
    // Whether the kernel found a free 2 MiB page is its business; that it reports how many
    // bytes sit on them (the HUD and `sim bench` show this) is what is checked.
    assert!(pages::huge_page_bytes().is_some());
    drop(column);
    // Back to small: the next big block is advised away from huge pages.
    pages::set_page_size(PageSize::Small).unwrap();
    assert_eq!(pages::page_size(), Some(PageSize::Small));
    let column = vec![2.5f32; 4 << 20];
    let flags = vm_flags_at(column.as_ptr() as usize).expect("the column's mapping in smaps");
    assert!(flags.split(' ').any(|f| f == "nh"), "VmFlags {flags}");
    assert!(column.iter().all(|&x| x == 2.5));
}
