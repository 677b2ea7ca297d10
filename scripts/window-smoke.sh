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
# Steps: install missing runtime packages, build, start Xvfb on a free display, run `sim
# --record`, wait for frames, screenshot and count lit pixels (particles) and HUD text
# pixels, press L, K, P, A and I and check that each prints exactly one line and that the
# HUD's strategy lines change, press T, +, -, Space, N, drag the mouse (left pulls, right
# pushes), press F12 and check the PNG, press Esc and check exit status 0; then replay the
# recording headless (recorded strategy, and held AoS/mutex/1 thread) and check both end on
# the window's final state line.
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

# Holds mouse button $1 while moving from ($2, $3) to ($4, $5) over about a second.
drag() {
    local button=$1 x0=$2 y0=$3 x1=$4 y1=$5
    xdotool mousemove --window "$WID" "$x0" "$y0"
    xdotool mousedown "$button"
    for i in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.1
        xdotool mousemove --window "$WID" $((x0 + (x1 - x0) * i / 10)) $((y0 + (y1 - y0) * i / 10))
    done
    xdotool mouseup "$button"
    say "dragged with button $button from $x0,$y0 to $x1,$y1"
}

# The recording replays headless to the window's final state, as recorded and held.
check_replay() {
    local window_line replayed held
    window_line=$(grep "^state_hash=" "$LOG" | tail -n1)
    grep -q "^record: saved $OUT/session.replay" "$LOG" || fail "the recording was not saved"
    grep -q 'kind = "mouse"' "$OUT/session.replay" || fail "no mouse event was recorded"
    replayed=$("$BIN" replay "$OUT/session.replay" | tail -n1) || fail "sim replay failed"
    held=$("$BIN" replay "$OUT/session.replay" --layout aos --lock mutex --threads 1 | tail -n1) \
        || fail "sim replay with a held strategy failed"
    say "window:   $window_line"
    say "replayed: $replayed"
    say "held:     $held (aos mutex 1 thread)"
    [[ "$replayed" == "$window_line" ]] || fail "the replay ended at '$replayed', the window at '$window_line'"
    [[ "$held" == "$window_line" ]] || fail "the held replay ended at '$held'"
}

# Watches the recording in the window (`sim --replay`): it must announce a match and end on
# the window's final state line; a key of the user's own is refused.
watch_replay() {
    local window_line
    window_line=$(grep "^state_hash=" "$LOG" | tail -n1)
    LOG="$OUT/watch.log"
    : >"$LOG"
    (cd "$OUT" && exec env WGPU_BACKEND=vulkan "$BIN" --replay "$OUT/session.replay") \
        >"$LOG" 2>&1 &
    SIM_PID=$!
    wait_for 120 "the replay to finish in the window" log_has "^replay: finished"
    log_has "^replay: finished, matches the recording" || fail "$(grep '^replay:' "$LOG" | tail -n1)"
    find_window
    press l "^replay: your input is off"
    shoot watch
    xdotool windowfocus --sync "$WID"
    xdotool key Escape
    wait_sim_exit Esc "$LOG"
    [[ "$(grep "^state_hash=" "$LOG" | tail -n1)" == "$window_line" ]] \
        || fail "the watched replay ended elsewhere than the recorded window"
    say "watched the replay in the window: $(grep '^replay: finished' "$LOG")"
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
    (cd "$OUT" && exec env WGPU_BACKEND=vulkan "$BIN" --particles "$PARTICLES" \
        --record "$OUT/session.replay") \
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
    press i "^layout panel: on"
    sleep 0.5
    shoot after
    check_frame after "$MIN_LIT" || fail "second screenshot ($OUT/after.png)"
    check_strategy_changed before after || fail "HUD unchanged after L, K, P"

    shoot layout-panel
    press t "^switch: threads -> "
    press plus "^switch: budget -> "
    press minus "^switch: budget -> "
    press space "^switch: pause -> on"
    press n "^step: "
    press n "^step: "
    press space "^switch: pause -> off"
    drag 1 400 300 900 500
    drag 3 800 200 500 600
    press F12 "^screenshot: "
    local png
    png=$(grep "^screenshot: " "$LOG" | tail -n1 | cut -d' ' -f2-)
    [[ -s "$png" ]] || fail "F12 did not write $png"

    xdotool windowfocus --sync "$WID"
    xdotool key Escape
    wait_sim_exit Esc "$LOG"
    grep "^perf: " "$LOG" | tail -n1
    check_replay
    watch_replay
    say "OK: screenshots $OUT/before.png $OUT/after.png, log $LOG"
}

main "$@"
