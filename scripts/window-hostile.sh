#!/usr/bin/env bash
# Hostile window events under Xvfb: what a window system and an impatient user can do to the
# window, then proof that the simulation came through it unharmed.
#
#   scripts/window-hostile.sh          # from anywhere; CI runs it as root on a fresh machine
#
# Environment:
#   SMOKE_OUT          where screenshots and logs go (default: target/hostile)
#   HOSTILE_PARTICLES  particle budget (default: 20000, so software Vulkan keeps up)
#   HOSTILE_HUGE       huge window sizes to try (default: "4000x3000 8192x8192")
#
# The window starts paused (--paused), so the simulation only moves on N (or in the moments
# the Space mash leaves it running) and its final step count is known. Strategy switches
# never change the state (the engine is bit-identical under every layout, lock, padding and
# thread count), so after the storm the window's final line must equal `sim run --steps S`
# with the same scene, particles and seed, run both with the default strategy and with the
# strategy the switches ended on.
#
# Run 1 (storm, closed with Esc while paused):
#   1. mash L, K, P, T and Space 50 times each, interleaved, in about a second;
#   2. N 20 times interleaved with more switches; hold L (one switch: repeats are ignored)
#      and hold N (auto-repeat steps);
#   3. resize to 1x1 (and mash again there), 16x16, huge sizes, beyond the GPU's texture
#      limit (30000x30000: a notice, no panic), a burst of 40 resizes without waiting, and
#      back to 1280x720; screenshots check that the picture follows the window;
#   4. minimise; with no window manager `xdotool windowminimize` does nothing, so the
#      window is also unmapped and mapped again (what a window manager does to iconify it);
#      X11 never gives a window a 0x0 size, so that path is covered by unit tests only;
#   5. a switch queued and Esc pressed at once: it quits while paused, a switch pending.
# Run 2 (closed by the window manager's close request, WM_DELETE_WINDOW, while paused).
# Each run: exit status 0, no "panicked", every key press logged exactly once, the state
# hash, particle count and step count equal to the headless runs'.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SMOKE_OUT:-$ROOT/target/hostile}"
PARTICLES="${HOSTILE_PARTICLES:-20000}"
HUGE="${HOSTILE_HUGE:-4000x3000 8192x8192}"
MASH=50
BIN="$ROOT/target/release/sim"
MIN_LIT=1000  # a tenth of the smoke test's particles: fewer lit pixels than its 5000

# shellcheck source=SCRIPTDIR/x11-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/x11-lib.sh"
X11_TAG=hostile
X11_POLL=0.1
X11_TIMEOUT_NOTE=" (hung?)"

LOG=""
ERR=""

# What fail shows: the end of this run's stdout and stderr logs, those with anything in them.
show_logs() {
    local f
    for f in "$LOG" "$ERR"; do
        if [[ -s "$f" ]]; then
            tail_log 20 "$f"
        fi
    done
}
trap cleanup EXIT

count_at_least() { (($(log_count "$1") >= $2)); }
last_line() { grep -- "$1" "$LOG" | tail -n1 || true; }

# Waits until the log has $2 lines matching $1, then checks no more arrive: each key press
# acts exactly once.
expect_count() {
    local pattern=$1 want=$2 what=$3
    wait_for 20 "$want '$pattern' lines ($what)" count_at_least "$pattern" "$want"
    sleep 0.3
    local got
    got=$(log_count "$pattern")
    ((got == want)) || fail "$what: expected $want '$pattern' lines, got $got"
}

# Starts sim paused; $1 names the log files.
start_sim() {
    LOG="$OUT/$1.log"
    ERR="$OUT/$1.err"
    : >"$LOG"
    : >"$ERR"
    say "$1: running sim --particles $PARTICLES --paused (log: $LOG)"
    (cd "$OUT" && exec env WGPU_BACKEND=vulkan "$BIN" --particles "$PARTICLES" --paused) \
        >"$LOG" 2>"$ERR" &
    SIM_PID=$!
    wait_for 60 "the first frame" log_has "^frame 1 drawn"
    log_has "^window opened: .*, paused\$" || fail "the window did not start paused"
    find_window
    # The pointer over the window: keys then reach the drawing area inside it first.
    xdotool mousemove 640 360
}

keys() {
    local delay=$1
    shift
    xdotool windowfocus --sync "$WID"
    xdotool key --delay "$delay" "$@"
}

# A huge screenshot: the picture fills the window (particles far right and low, where a
# framebuffer stuck at 1280x720 would leave black), not only its top-left corner.
check_huge() {
    local w=$1 h=$2 png="$OUT/$3.png"
    local size colours
    size=$(identify -format '%wx%h' "$png")
    [[ "$size" == "${w}x${h}" ]] || fail "$png is $size, expected ${w}x${h}"
    colours=$(convert "$png" -crop "$((w / 2))x$((h / 2))+$((w / 2))+$((h / 2))" +repage \
        -format '%k' info:)
    say "${w}x${h}: $colours colours in the bottom-right quarter"
    ((colours >= 10)) || fail "at ${w}x${h} the bottom-right quarter is blank ($png)"
}

# Resizes the window and waits for sim to follow.
resize_to() {
    local w=$1 h=$2
    local before
    before=$(log_count "^resized: ${w}x${h}\$")
    xdotool windowsize "$WID" "$w" "$h"
    wait_for 60 "'resized: ${w}x${h}'" count_at_least "^resized: ${w}x${h}\$" $((before + 1))
    say "resized to ${w}x${h}"
}

# Sends the window manager's close request (WM_DELETE_WINDOW), as a title bar's X button
# does; there is no window manager here and xdotool has no command for it.
request_close() {
    python3 - "$1" <<'EOF'
import ctypes, sys
from ctypes import c_int, c_ulong, c_long, c_void_p, c_char_p
x = ctypes.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = c_void_p
x.XOpenDisplay.argtypes = [c_char_p]
x.XInternAtom.restype = c_ulong
x.XInternAtom.argtypes = [c_void_p, c_char_p, c_int]
x.XSendEvent.argtypes = [c_void_p, c_ulong, c_int, c_long, c_void_p]
x.XFlush.argtypes = [c_void_p]
x.XCloseDisplay.argtypes = [c_void_p]

class ClientMessage(ctypes.Structure):
    _fields_ = [("type", c_int), ("serial", c_ulong), ("send_event", c_int),
                ("display", c_void_p), ("window", c_ulong), ("message_type", c_ulong),
                ("format", c_int), ("data", c_long * 5)]

class XEvent(ctypes.Union):
    _fields_ = [("xclient", ClientMessage), ("pad", c_long * 24)]

display = x.XOpenDisplay(None)
if not display:
    sys.exit("cannot open the display")
window = int(sys.argv[1], 0)
event = XEvent()
event.xclient.type = 33  # ClientMessage
event.xclient.window = window
event.xclient.message_type = x.XInternAtom(display, b"WM_PROTOCOLS", 0)
event.xclient.format = 32
event.xclient.data[0] = x.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
if not x.XSendEvent(display, window, 0, 0, ctypes.byref(event)):
    sys.exit("XSendEvent failed")
x.XFlush(display)
x.XCloseDisplay(display)
EOF
}

# Waits for sim to exit after $1 and checks status 0 and the quit line $2.
expect_exit() {
    local how=$1 quit_line=$2
    wait_sim_exit "$how" "$LOG" "$ERR"
    log_has "$quit_line" || fail "no '$quit_line' line after $how"
    say "$how: $(last_line "$quit_line"), exit status 0, no panic"
}

# The value the last `switch: $1 -> X` line set.
final_switch() { last_line "^switch: $1 -> " | sed 's/.* -> //'; }

# Every `step: K` line after line $1 of the log counts up by one, and the window's final
# state ran exactly to the last of them (no N lost, doubled or left queued).
check_steps() {
    local from=$1 steps=$2
    local ks
    ks=$(tail -n +"$from" "$LOG" | sed -n 's/^step: \([0-9]*\)$/\1/p')
    [[ -n "$ks" ]] || fail "no 'step: K' lines"
    echo "$ks" | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' \
        || fail "step numbers do not count up by one: $(echo "$ks" | tr '\n' ' ')"
    local last
    last=$(echo "$ks" | tail -n1)
    ((last == steps)) || fail "the last N queued step $last, but the window ended at step $steps"
    if log_has "^step: only while paused"; then
        fail "an N arrived while the window was running: the pause state went out of step"
    fi
}

# Compares the window's final line with `sim run --steps S`, with the default strategy and
# with the strategy the switches ended on.
compare_headless() {
    local name=$1
    local window_line
    window_line=$(last_line "^state_hash=")
    [[ "$window_line" =~ ^state_hash=[0-9a-f]{16}\ particles=([0-9]+)\ steps=([0-9]+)$ ]] \
        || fail "$name: no final 'state_hash=... particles=... steps=...' line"
    local steps=${BASH_REMATCH[2]}
    local strategy=(--layout "$(final_switch layout)" --lock "$(final_switch lock)"
                    --padding "$(final_switch padding)" --threads "$(final_switch threads)")
    local plain switched
    plain=$("$BIN" run --steps "$steps" --particles "$PARTICLES" | tail -n1)
    switched=$("$BIN" run --steps "$steps" --particles "$PARTICLES" "${strategy[@]}" | tail -n1)
    say "$name: window:   $window_line"
    say "$name: headless: $plain"
    say "$name: headless: $switched (${strategy[*]})"
    [[ "$plain" == "$window_line" ]] \
        || fail "$name: the window ended at '$window_line', headless gives '$plain'"
    [[ "$switched" == "$window_line" ]] \
        || fail "$name: the window ended at '$window_line', headless with ${strategy[*]} gives '$switched'"
}

# Run 1: the storm, then Esc while paused.
storm() {
    start_sim storm
    shoot storm-start "$WID"
    check_frame storm-start "$MIN_LIT" || fail "first screenshot ($OUT/storm-start.png)"

    # 1. Mash every toggle, interleaved.
    local mash=()
    for ((i = 0; i < MASH; i++)); do mash+=(l k p t space); done
    local t0 t1
    t0=$(date +%s.%N)
    keys 1 "${mash[@]}"
    t1=$(date +%s.%N)
    local layout=$MASH lock=$MASH padding=$MASH threads=$MASH pause=$MASH
    expect_count "^switch: layout -> " $layout "L mashed"
    expect_count "^switch: lock -> " $lock "K mashed"
    expect_count "^switch: padding -> " $padding "P mashed"
    expect_count "^switch: threads -> " $threads "T mashed"
    expect_count "^switch: pause -> " $pause "Space mashed"
    [[ "$(final_switch pause)" == on ]] || fail "an even number of Space presses left it running"
    say "mashed L, K, P, T, Space $MASH times each in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s:" \
        "each logged exactly $MASH times"
    local steps_from
    steps_from=$(($(wc -l <"$LOG") + 1))

    # 2. Single steps between switches; held keys.
    local interleaved=()
    for ((i = 0; i < 5; i++)); do interleaved+=(n l n k n p n t); done
    keys 30 "${interleaved[@]}"
    local n=20
    ((layout += 5, lock += 5, padding += 5, threads += 5))
    expect_count "^step: " $n "N between switches"
    expect_count "^switch: threads -> " $threads "T between steps"
    xdotool windowfocus --sync "$WID"
    xdotool keydown l
    sleep 1.2
    xdotool keyup l
    ((layout += 1))
    expect_count "^switch: layout -> " $layout "L held (repeats must not switch)"
    xdotool keydown n
    sleep 1.2
    xdotool keyup n
    sleep 0.5
    n=$(log_count "^step: ")
    say "N held: $((n - 20)) steps (auto-repeat); L held: one switch"

    # 3. Resizes: tiny (with a mash there), huge, too large for the GPU, a burst, back.
    resize_to 1 1
    local tiny=()
    for ((i = 0; i < MASH; i++)); do tiny+=(l k p t); done
    keys 1 "${tiny[@]}" n n n
    ((layout += MASH, lock += MASH, padding += MASH, threads += MASH, n += 3))
    expect_count "^switch: padding -> " $padding "P mashed at 1x1"
    expect_count "^step: " $n "N at 1x1"
    resize_to 16 16
    keys 1 n
    expect_count "^step: " $((n += 1)) "N at 16x16"
    local size w h
    for size in $HUGE; do
        w=${size%x*}
        h=${size#*x}
        resize_to "$w" "$h"
        keys 1 n
        expect_count "^step: " $((n += 1)) "N at ${w}x${h}"
        # Screenshots of the largest sizes would take ImageMagick gigabytes: skipped.
        if ((w * h <= 4096 * 3072)); then
            sleep 1
            shoot "storm-${w}x${h}" "$WID"
            check_huge "$w" "$h" "storm-${w}x${h}"
        fi
    done
    xdotool windowsize "$WID" 30000 30000
    wait_for 30 "the notice for 30000x30000" log_has "^cannot resize to 30000x30000: "
    say "30000x30000: $(last_line '^cannot resize to 30000x30000')"
    keys 1 n l
    ((layout += 1))
    expect_count "^step: " $((n += 1)) "N at 30000x30000"
    local resized_before
    resized_before=$(log_count '^resized: ')
    # Up to 20 ms apart, so resizes also land while a frame is being drawn or presented.
    for ((i = 0; i < 40; i++)); do
        xdotool windowsize "$WID" $((1 + RANDOM % 1279)) $((1 + RANDOM % 2000))
        sleep "0.0$((RANDOM % 3))"
        if ((i % 10 == 0)); then
            keys 1 n
            ((n += 1))
        fi
    done
    expect_count "^step: " $n "N during the resize burst"
    xdotool windowsize "$WID" 1280 720
    wait_for 60 "'resized: 1280x720' after the burst" \
        bash -c "[[ \"\$(grep '^resized: ' '$LOG' | tail -n1)\" == 'resized: 1280x720' ]]"
    say "burst of 40 resizes: the window followed $(($(log_count '^resized: ') - resized_before))" \
        "of them (the rest came faster than frames), back at 1280x720"

    # 4. Minimise, then unmap and map (what a window manager does to iconify).
    xdotool windowminimize "$WID" || true
    sleep 1
    if xwininfo -id "$WID" | grep -q "IsViewable"; then
        say "windowminimize did nothing (no window manager); unmapping instead"
    else
        say "windowminimize unmapped the window"
    fi
    xdotool windowunmap --sync "$WID"
    sleep 2
    kill -0 "$SIM_PID" 2>/dev/null || fail "sim exited while unmapped"
    xdotool windowmap --sync "$WID"
    keys 1 n
    expect_count "^step: " $((n += 1)) "N after mapping again"
    say "unmapped for 2 s and mapped again: still answering keys"

    # 5. A last step (after an odd number of L, P and T presses: aos, packed, one thread),
    # the picture after the storm, then Esc with a switch still pending, while paused.
    keys 1 n
    expect_count "^step: " $((n += 1)) "the last N"
    sleep 1
    shoot storm-end "$WID"
    check_frame storm-end "$MIN_LIT" || fail "screenshot after the storm ($OUT/storm-end.png)"
    [[ "$(final_switch pause)" == on ]] || fail "not paused before quitting"
    keys 1 k Escape
    ((lock += 1))
    expect_exit "Esc" "^quit (Esc) after "
    expect_count "^switch: layout -> " $layout "L in all"
    expect_count "^switch: lock -> " $lock "K in all"
    expect_count "^switch: padding -> " $padding "P in all"
    expect_count "^switch: threads -> " $threads "T in all"
    expect_count "^step: " $n "N in all"
    local window_steps
    window_steps=$(last_line "^state_hash=" | sed 's/.*steps=//')
    check_steps "$steps_from" "$window_steps"
    say "storm: $(log_count '^switch: ') switches, $n single steps, $window_steps steps in all"
    compare_headless storm
}

# Run 2: a few steps and switches, then the window manager's close request while paused.
close_request() {
    start_sim close
    local seq=()
    for ((i = 0; i < 5; i++)); do seq+=(n l k p t); done
    keys 20 "${seq[@]}"
    expect_count "^step: " 5 "N before closing"
    expect_count "^switch: " 20 "switches before closing"
    keys 1 k
    expect_count "^switch: " 21 "a switch pending at close"
    request_close "$WID"
    expect_exit "WM_DELETE_WINDOW" "^quit (window closed) after "
    check_steps 1 "$(last_line "^state_hash=" | sed 's/.*steps=//')"
    compare_headless close
}

main() {
    mkdir -p "$OUT"
    OUT="$(cd "$OUT" && pwd)"
    rm -f "$OUT"/storm* "$OUT"/close*
    install_packages
    build_sim
    # The screen is large so the huge sizes are real, on-screen sizes.
    start_xvfb 4096x3072x24
    say "Xvfb pid $XVFB_PID on $DISPLAY ($(xdpyinfo | awk '/dimensions:/ {print $2}'))"
    storm
    close_request
    say "OK: screenshots $OUT/storm-*.png, logs $OUT/storm.log $OUT/close.log"
}

main "$@"
