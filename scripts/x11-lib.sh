# shellcheck shell=bash
# Shared by scripts/window-smoke.sh and scripts/window-hostile.sh: runtime packages, building,
# a private Xvfb on a free display, waiting on sim and its log, screenshots and their check.
# Sourced, never run: it only defines functions and variables.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/x11-lib.sh"
#
# The sourcing script sets, before it calls any of these:
#   ROOT, OUT, LOG     the repository, the output folder, sim's log (its stdout)
#   X11_TAG            the prefix of `say` and `fail` lines ("smoke", "hostile")
#   X11_POLL           seconds between polls while waiting on sim or Xvfb
#   X11_TIMEOUT_NOTE   appended to the message when `wait_for` times out ("" or " (hung?)")
# defines `show_logs` (what `fail` shows of its logs: the two scripts keep different ones),
# and sets `trap cleanup EXIT`.
# shellcheck disable=SC2154  # ROOT, OUT, LOG and the X11_* settings come from the script.

TITLE='sim - particle engine'
PACKAGES=(xvfb xauth xdotool imagemagick x11-utils libvulkan1 mesa-vulkan-drivers
          libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6)

XVFB_PID=""
SIM_PID=""
RUNTIME_DIR=""
WID=""

say() { echo "$X11_TAG: $*"; }

fail() {
    echo "$X11_TAG: FAILED: $*" >&2
    show_logs >&2
    exit 1
}

# The last $1 lines of file $2, under a header (for show_logs).
tail_log() {
    echo "--- last lines of $2 ---"
    tail -n "$1" "$2"
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

build_sim() {
    say "building"
    (cd "$ROOT" && cargo build --release -p sim)
}

# Runs "$@" until it succeeds or $1 seconds pass; fails if sim exits meanwhile.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            fail "timed out after ${seconds}s waiting for $what$X11_TIMEOUT_NOTE"
        fi
        if [[ -n "$SIM_PID" ]] && ! kill -0 "$SIM_PID" 2>/dev/null; then
            fail "sim exited while waiting for $what"
        fi
        sleep "$X11_POLL"
    done
}

log_has() { grep -q -- "$1" "$LOG"; }
log_count() { grep -c -- "$1" "$LOG" || true; }

# Starts Xvfb with one screen of size $1 (WxHxDEPTH), on a display of its own choosing, and
# exports DISPLAY; X clients then find it there.
start_xvfb() {
    local screen=$1
    RUNTIME_DIR="$(mktemp -d)"
    chmod 700 "$RUNTIME_DIR"
    export XDG_RUNTIME_DIR="$RUNTIME_DIR"
    unset WAYLAND_DISPLAY
    # -displayfd: the server picks a free display and writes its number to the file.
    local number_file="$RUNTIME_DIR/display"
    Xvfb -displayfd 3 -screen 0 "$screen" -nolisten tcp 3>"$number_file" \
        >"$OUT/xvfb.log" 2>&1 &
    XVFB_PID=$!
    wait_for 20 "Xvfb to choose a display" test -s "$number_file"
    DISPLAY=":$(head -n1 "$number_file")"
    export DISPLAY
    wait_for 20 "Xvfb to answer on $DISPLAY" xdpyinfo >/dev/null 2>&1
}

# Sets WID to sim's window, once it has been mapped.
find_window() {
    WID=$(timeout 20 xdotool search --sync --name "^${TITLE}\$" | head -n1)
    [[ -n "$WID" ]] || fail "no window titled '$TITLE'"
}

# Screenshot of window $2 (default: the whole screen) as $OUT/$1.png.
shoot() {
    import -window "${2:-root}" "$OUT/$1.png"
}

# Checks screenshot $1 at 1280x720: at least $2 particle pixels lit outside the HUD, HUD text
# inside it. Leaves the raw RGB beside the PNG as $OUT/$1.rgb.
check_frame() {
    convert "$OUT/$1.png" -depth 8 "rgb:$OUT/$1.rgb"
    python3 - "$OUT/$1.rgb" "$2" <<'EOF'
import sys
W, H = 1280, 720
MIN_LIT = int(sys.argv[2])
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
if lit < MIN_LIT:
    sys.exit("too few lit pixels: particles are not drawn")
if text < 1000:
    sys.exit("too few HUD text pixels: the HUD is not drawn")
EOF
}

# Waits for sim to exit after $1 (what should have closed it), then checks exit status 0 and
# no "panicked" in the files $2...
wait_sim_exit() {
    local how=$1
    shift
    local deadline=$((SECONDS + 20))
    while kill -0 "$SIM_PID" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "sim did not quit within 20 s of $how"
        sleep "$X11_POLL"
    done
    local status=0
    wait "$SIM_PID" || status=$?
    SIM_PID=""
    ((status == 0)) || fail "sim exited with status $status after $how"
    if grep -qi "panicked" "$@"; then
        fail "sim panicked"
    fi
}
