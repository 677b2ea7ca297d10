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
TITLE='sim - particle engine'
BIN="$ROOT/target/release/sim"
PACKAGES=(xvfb xauth xdotool imagemagick x11-utils libvulkan1 mesa-vulkan-drivers
          libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6)

XVFB_PID=""
SIM_PID=""
RUNTIME_DIR=""

say() { echo "smoke: $*"; }

fail() {
    echo "smoke: FAILED: $*" >&2
    if [[ -f "${LOG:-}" ]]; then
        echo "--- last lines of $LOG ---" >&2
        tail -n 30 "$LOG" >&2
    fi
    exit 1
}

cleanup() {
    if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    if [[ -n "$XVFB_PID" ]]; then
        kill "$XVFB_PID" 2>/dev/null || true
        wait "$XVFB_PID" 2>/dev/null || true
    fi
    if [[ -n "$RUNTIME_DIR" ]]; then
        rm -rf "$RUNTIME_DIR"
    fi
}
trap cleanup EXIT

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    command -v python3 >/dev/null || missing+=(python3-minimal)
    if ((${#missing[@]} == 0)); then
        return
    fi
    say "installing ${missing[*]}"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || fail "missing packages (${missing[*]}) and not root"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

# Runs "$@" until it succeeds or $1 seconds pass.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            fail "timed out after ${seconds}s waiting for $what"
        fi
        if [[ -n "$SIM_PID" ]] && ! kill -0 "$SIM_PID" 2>/dev/null; then
            fail "sim exited while waiting for $what"
        fi
        sleep 0.2
    done
}

log_has() { grep -q -- "$1" "$LOG"; }
log_count() { grep -c -- "$1" "$LOG" || true; }

start_xvfb() {
    RUNTIME_DIR="$(mktemp -d)"
    chmod 700 "$RUNTIME_DIR"
    export XDG_RUNTIME_DIR="$RUNTIME_DIR"
    unset WAYLAND_DISPLAY
    # -displayfd: the server picks a free display and writes its number to the file.
    local number_file="$RUNTIME_DIR/display"
    Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp 3>"$number_file" \
        >"$OUT/xvfb.log" 2>&1 &
    XVFB_PID=$!
    wait_for 20 "Xvfb to choose a display" test -s "$number_file"
    export DISPLAY=":$(head -n1 "$number_file")"
    wait_for 20 "Xvfb to answer on $DISPLAY" xdpyinfo >/dev/null 2>&1
    say "Xvfb pid $XVFB_PID on $DISPLAY"
}

# Screenshot of the whole screen as PNG and raw RGB.
shoot() {
    import -window root "$OUT/$1.png"
    convert "$OUT/$1.png" -depth 8 "rgb:$OUT/$1.rgb"
}

# Checks a screenshot: particles lit outside the HUD, HUD text inside it.
check_frame() {
    python3 - "$OUT/$1.rgb" <<'EOF'
import sys
W, H = 1280, 720
data = open(sys.argv[1], "rb").read()
if len(data) != W * H * 3:
    sys.exit(f"{sys.argv[1]}: expected {W}x{H} RGB, got {len(data)} bytes")
BACKGROUND = (6, 7, 14)
TEXT = (225, 228, 235)

def pixels(x0, y0, x1, y1):
    for y in range(y0, y1):
        row = data[(y * W + x0) * 3:(y * W + x1) * 3]
        for i in range(0, len(row), 3):
            yield tuple(row[i:i + 3])

# Right of the HUD panel (which ends near x = 600) only particles are drawn.
lit = sum(p != BACKGROUND for p in pixels(640, 0, W, H))
text = sum(p == TEXT for p in pixels(8, 8, 600, 340))
print(f"lit particle pixels right of the HUD: {lit}; HUD text pixels: {text}")
if lit < 5000:
    sys.exit("too few lit pixels: particles are not drawn")
if text < 1000:
    sys.exit("too few HUD text pixels: the HUD is not drawn")
EOF
}

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
    say "building"
    (cd "$ROOT" && cargo build --release -p sim)
    start_xvfb

    say "running sim with $PARTICLES particles (log: $LOG)"
    # Run from $OUT, so F12 screenshots land there; scenes are found beside the binary.
    : >"$LOG"
    (cd "$OUT" && exec env WGPU_BACKEND=vulkan "$BIN" --particles "$PARTICLES") \
        >"$LOG" 2>&1 &
    SIM_PID=$!
    wait_for 60 "the first frame" log_has "^frame 1 drawn"
    WID=$(timeout 20 xdotool search --sync --name "^${TITLE}\$" | head -n1)
    [[ -n "$WID" ]] || fail "no window titled '$TITLE'"
    say "window $WID: $(xdotool getwindowgeometry "$WID" | tr '\n' ' ')"
    # The first perf line comes after ~5 s: by then the HUD has numbers and a graph.
    wait_for 60 "a perf line" log_has "^perf: "
    shoot before
    check_frame before || fail "first screenshot ($OUT/before.png)"

    press l "^switch: layout -> "
    press k "^switch: lock -> "
    press p "^switch: counters -> "
    sleep 0.5
    shoot after
    check_frame after || fail "second screenshot ($OUT/after.png)"
    check_strategy_changed before after || fail "HUD unchanged after L, K, P"

    press F12 "^screenshot: "
    local png
    png=$(grep "^screenshot: " "$LOG" | tail -n1 | cut -d' ' -f2-)
    [[ -s "$png" ]] || fail "F12 did not write $png"

    xdotool windowfocus --sync "$WID"
    xdotool key Escape
    local deadline=$((SECONDS + 20))
    while kill -0 "$SIM_PID" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "sim did not quit within 20 s of Esc"
        sleep 0.2
    done
    local status=0
    wait "$SIM_PID" || status=$?
    SIM_PID=""
    ((status == 0)) || fail "sim exited with status $status after Esc"
    if grep -qi "panicked" "$LOG"; then
        fail "sim panicked"
    fi
    grep "^perf: " "$LOG" | tail -n1
    say "OK: screenshots $OUT/before.png $OUT/after.png, log $LOG"
}

main "$@"
