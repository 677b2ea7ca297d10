#!/usr/bin/env bash
# Smoke test of the window, as a user would run it: a real X server (Xvfb), software Vulkan,
# real key presses (xdotool) and pixels checked on screenshots (ImageMagick `import`).
#
#   scripts/window-smoke.sh            # from anywhere; CI runs it as root on a fresh machine
#
# Environment:
#   SMOKE_OUT        where screenshots and the log go (default: target/smoke)
#   SMOKE_PARTICLES  particle budget for the run (default: 200000, quick on software Vulkan)
#
# Steps: install missing runtime packages, build, start Xvfb on a free display, run `sim`,
# wait for frames, screenshot and count lit pixels (particles) and HUD text pixels, press L,
# K and P and check that each prints exactly one `switch:` line and that the HUD's strategy
# lines change, press F12 and check the PNG, press Esc and check exit status 0.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SMOKE_OUT:-$ROOT/target/smoke}"
PARTICLES="${SMOKE_PARTICLES:-200000}"
MIN_LIT=5000  # lit particle pixels right of the HUD a screenshot needs at that budget
BIN="$ROOT/target/release/sim"

# shellcheck source=SCRIPTDIR/x11-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/x11-lib.sh"
X11_TAG=smoke
X11_POLL=0.2
X11_TIMEOUT_NOTE=""

# What fail shows: the end of sim's log (stdout and stderr together), if it exists yet.
show_logs() {
    if [[ -f "${LOG:-}" ]]; then
        tail_log 30 "$LOG"
    fi
}
trap cleanup EXIT

# The HUD's strategy lines (rows 216..256 of the panel at 2x text) differ between shots.
check_strategy_changed() {
    python3 - "$OUT/$1.rgb" "$OUT/$2.rgb" <<'EOF'
import sys
W = 1280
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
y0, y1, x0, x1 = 216, 256, 16, 16 + 36 * 16
changed = sum(
    a[(y * W + x) * 3:(y * W + x) * 3 + 3] != b[(y * W + x) * 3:(y * W + x) * 3 + 3]
    for y in range(y0, y1) for x in range(x0, x1))
print(f"pixels changed in the HUD strategy lines: {changed}")
if changed < 100:
    sys.exit("the HUD strategy lines did not change after L, K, P")
EOF
}

press() {
    local key=$1 expect=$2
    local before
    before=$(log_count "$expect")
    xdotool windowfocus --sync "$WID"
    xdotool key "$key"
    wait_for 15 "'$expect' after pressing $key" \
        bash -c "(( \$(grep -c -- '$expect' '$LOG' || true) > $before ))"
    sleep 0.5
    local after
    after=$(log_count "$expect")
    ((after == before + 1)) || fail "pressing $key logged '$expect' $((after - before)) times"
    say "$key -> $(grep -- "$expect" "$LOG" | tail -n1)"
}

main() {
    mkdir -p "$OUT"
    OUT="$(cd "$OUT" && pwd)"
    LOG="$OUT/sim.log"
    rm -f "$OUT"/*.png "$OUT"/*.rgb "$LOG"
    install_packages
    build_sim
    start_xvfb 1280x720x24
    say "Xvfb pid $XVFB_PID on $DISPLAY"

    say "running sim with $PARTICLES particles (log: $LOG)"
    # Run from $OUT, so F12 screenshots land there; scenes are found beside the binary.
    : >"$LOG"
    (cd "$OUT" && exec env WGPU_BACKEND=vulkan "$BIN" --particles "$PARTICLES") \
        >"$LOG" 2>&1 &
    SIM_PID=$!
    wait_for 60 "the first frame" log_has "^frame 1 drawn"
    find_window
    say "window $WID: $(xdotool getwindowgeometry "$WID" | tr '\n' ' ')"
    # The first perf line comes after ~5 s: by then the HUD has numbers and a graph.
    wait_for 60 "a perf line" log_has "^perf: "
    shoot before
    check_frame before "$MIN_LIT" || fail "first screenshot ($OUT/before.png)"

    press l "^switch: layout -> "
    press k "^switch: lock -> "
    press p "^switch: padding -> "
    press a "^switch: alloc -> heap"
    sleep 0.5
    shoot after
    check_frame after "$MIN_LIT" || fail "second screenshot ($OUT/after.png)"
    check_strategy_changed before after || fail "HUD unchanged after L, K, P"

    press F12 "^screenshot: "
    local png
    png=$(grep "^screenshot: " "$LOG" | tail -n1 | cut -d' ' -f2-)
    [[ -s "$png" ]] || fail "F12 did not write $png"

    xdotool windowfocus --sync "$WID"
    xdotool key Escape
    wait_sim_exit Esc "$LOG"
    grep "^perf: " "$LOG" | tail -n1
    say "OK: screenshots $OUT/before.png $OUT/after.png, log $LOG"
}

main "$@"
