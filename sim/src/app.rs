//! The window: winit 0.30 `ApplicationHandler`, a `pixels` framebuffer always at the
//! window's inner size, the HUD, the hotkeys and frame pacing.
//!
//! A frame: rasterise the particles (as the last frame's steps left them) and the HUD into
//! the frame on the CPU, then present it on a helper thread while this frame's steps run
//! (the `Session` of `app/session.rs`). Each part is timed; since presenting and simulating
//! overlap, the frame time can be less than their sum. The HUD shows the split, and a
//! `perf:` line reports it on stdout every five seconds. Every hotkey prints one log line
//! and shows it as a notice for two seconds.

mod keys;
mod pacing;
pub mod scenes;
pub mod session;

use crate::Failure;
use crate::bindings::{Command, UiAction};
use crate::cli::WindowArgs;
use crate::hud::{self, FrameSample, HudState, Notice};
use crate::render::{Rasteriser, Viewport};
use crate::snapshot::write_png;
use engine::particles::access::Conditions;
use engine::particles::replay::file;
use pacing::{Pacer, PerfLog};
use pixels::{Pixels, PixelsBuilder, SurfaceTexture, wgpu};
use scenes::Catalog;
use session::{Outcome, Overrides, Session, Tick};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use winit::application::ApplicationHandler;
use winit::dpi::{LogicalSize, PhysicalPosition, PhysicalSize};
use winit::event::{ElementState, KeyEvent, MouseButton, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::raw_window_handle::HasWindowHandle;
use winit::window::{Window, WindowId};

/// The window title.
pub const TITLE: &str = "sim - particle engine";

/// How long a notice stays on screen.
const NOTICE_FOR: Duration = Duration::from_secs(2);

/// Frames between `frame N drawn` log lines (the first frame is always logged).
const FRAME_LOG_EVERY: u64 = 300;

/// Frames between readings of how much memory is on huge pages (the kernel walks every
/// mapping to say).
const HUGE_PAGES_EVERY: u64 = 30;

/// Opens the window and runs until it is closed.
pub fn run(args: &WindowArgs) -> Result<(), Failure> {
    let scene = args.scene.load().map_err(Failure::runtime)?;
    let event_loop = EventLoop::new().map_err(|_| {
        Failure::runtime(
            "no display found (is DISPLAY set?); headless commands work without one: \
             `sim run --frames N`, `sim bench`, `sim snapshot --frames N --out shot.png`",
        )
    })?;
    let overrides = Overrides {
        particles: args.scene.particles,
        seed: args.scene.seed,
    };
    let mut session = match &args.replay {
        Some(path) => {
            let recording = file::load(path).map_err(|e| Failure::runtime(e.to_string()))?;
            crate::out!(
                "replay: watching {} ({} events, ends at {})",
                path.display(),
                recording.events.len(),
                recording.end.line()
            );
            Session::replaying(&recording, None).map_err(Failure::runtime)?
        }
        None => {
            Session::new(scene, args.strategy.strategy(), overrides).map_err(Failure::runtime)?
        }
    };
    session.set_paused(args.paused);
    if let Some(path) = &args.record {
        let outcome = session.start_recording();
        crate::out!("{} to {}", outcome.line, path.display());
    }
    let now = Instant::now();
    let pacer = Pacer::new(args.fps, now);
    let hud = HudState::new(String::new(), session.target(), pacer.period_ms());
    let mut app = App {
        session,
        catalog: Catalog::locate(),
        gfx: None,
        raster: Rasteriser::default(),
        hud,
        notice_until: None,
        mouse: Mouse::default(),
        pacer,
        perf: PerfLog::new(now),
        last_frame: None,
        frames: 0,
        error: None,
        record_to: args.record.clone(),
    };
    let ran = event_loop
        .run_app(&mut app)
        .map_err(|e| Failure::runtime(format!("window event loop failed: {e}")));
    if app.session.recording() {
        let saved = app.save_recording();
        crate::out!("{}", saved.line);
    }
    // The same last line as `sim run`, so a script can compare the two.
    crate::out!("{}", app.session.world().state_line());
    ran?;
    app.error.map_or(Ok(()), Err)
}

/// The window and its framebuffer.
///
/// The framebuffer presents to `canvas`, a child window at the window's top-left corner
/// whose size only this program changes (in [`Gfx::resize`], just before the surface is
/// rebuilt for the new size). Presenting to the top-level window itself could hang: when it
/// was resized after the frame's size check, the driver refused the now wrong-sized
/// swapchain, and `pixels` rebuilt it at the same old size and retried forever, so the
/// event that would have fixed the size was never handled. The canvas cannot change size
/// behind the program's back, so its swapchain always fits.
struct Gfx {
    // Dropped first: it presents to the canvas, which lives inside the window.
    pixels: Pixels<'static>,
    canvas: Arc<Window>,
    window: Arc<Window>,
    /// The window's inner size when last looked at (0x0 when minimised).
    seen: (u32, u32),
    /// The canvas's, the surface's and the framebuffer's size.
    width: u32,
    height: u32,
}

impl Gfx {
    /// Resizes the canvas, then the surface and the framebuffer to match it.
    fn resize(&mut self, width: u32, height: u32) -> Result<(), String> {
        let fail = |e: pixels::TextureError| format!("cannot resize to {width}x{height}: {e}");
        // The canvas first: the swapchain built next is checked against the canvas's size,
        // and the X server handles one connection's requests in order.
        let _ = self
            .canvas
            .request_inner_size(PhysicalSize::new(width, height));
        if let Err(e) = self.pixels.resize_surface(width, height) {
            let _ = self
                .canvas
                .request_inner_size(PhysicalSize::new(self.width, self.height));
            return Err(fail(e));
        }
        self.pixels.resize_buffer(width, height).map_err(fail)?;
        (self.width, self.height) = (width, height);
        Ok(())
    }
}

/// What the framebuffer does about the window's inner size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resize {
    /// It already has that size.
    Keep,
    /// The window is minimised (0x0): keep the framebuffer, draw nothing.
    Hide,
    /// Wider or taller than the GPU's textures: keep drawing at the current size.
    TooLarge,
    /// Resize it to this.
    To(u32, u32),
}

/// The resize for a framebuffer of size `current` in a window of size `window`, with
/// textures of at most `max_side` pixels a side.
fn resize_plan(current: (u32, u32), window: (u32, u32), max_side: u32) -> Resize {
    let (w, h) = window;
    if w == 0 || h == 0 {
        Resize::Hide
    } else if w > max_side || h > max_side {
        Resize::TooLarge
    } else if window == current {
        Resize::Keep
    } else {
        Resize::To(w, h)
    }
}

/// The cursor (in window pixels) and which buttons are held.
#[derive(Default)]
struct Mouse {
    at: Option<PhysicalPosition<f64>>,
    left: bool,
    right: bool,
}

impl Mouse {
    /// Where the cursor is while a button is down: where the attractor is held.
    fn held(&self) -> Option<PhysicalPosition<f64>> {
        self.at.filter(|_| self.left || self.right)
    }
}

struct App {
    session: Session,
    catalog: Catalog,
    gfx: Option<Gfx>,
    raster: Rasteriser,
    hud: HudState,
    notice_until: Option<Instant>,
    mouse: Mouse,
    pacer: Pacer,
    perf: PerfLog,
    last_frame: Option<Instant>,
    frames: u64,
    error: Option<Failure>,
    /// Where a recording goes (`--record`; F5 without it picks a name).
    record_to: Option<PathBuf>,
}

impl App {
    fn open(&mut self, event_loop: &ActiveEventLoop) -> Result<(), String> {
        let attributes = Window::default_attributes()
            .with_title(TITLE)
            .with_inner_size(LogicalSize::new(1280.0, 720.0));
        let window = Arc::new(
            event_loop
                .create_window(attributes)
                .map_err(|e| format!("cannot open a window: {e}"))?,
        );
        let size = window.inner_size();
        let (width, height) = (size.width.max(1), size.height.max(1));
        let canvas = Arc::new(open_canvas(event_loop, &window, width, height)?);
        let pixels = build_pixels(&canvas, width, height)?;
        let world = self.session.world();
        crate::out!(
            "window opened: {width}x{height}, scene '{}', {} particles, {} fps target{}",
            world.scene().display_name(),
            world.len(),
            fps_text(self.pacer.period_ms()),
            if self.session.paused() {
                ", paused"
            } else {
                ""
            },
        );
        self.gfx = Some(Gfx {
            pixels,
            canvas,
            window,
            seen: (width, height),
            width,
            height,
        });
        Ok(())
    }

    /// Draws the world as the last frame's steps left it, then presents that picture while
    /// this frame's steps run. A failing present ends the program.
    fn redraw(&mut self, event_loop: &ActiveEventLoop) {
        let now = Instant::now();
        let interval = self.last_frame.map_or(Duration::ZERO, |l| now - l);
        self.last_frame = Some(now);
        self.pacer.started(now);
        if let Err(e) = self.sync_size() {
            self.announce(Outcome::error(e));
        }
        let Some((width, height, seen)) = self.gfx.as_ref().map(|g| (g.width, g.height, g.seen))
        else {
            return;
        };
        if resize_plan((width, height), seen, u32::MAX) == Resize::Hide {
            return; // Minimised: nothing to show, and no time is simulated.
        }
        let view = Viewport {
            width,
            height,
            world: self.session.world().bounds(),
        };
        self.update_mouse(view);
        self.refresh_hud(now);
        let render_ms = self.draw(view);
        let (tick, present) = self.present_while_simulating(interval.as_secs_f64());
        let present_ms = match present {
            Ok(ms) => ms,
            Err(e) => {
                self.error = Some(Failure::runtime(e));
                return event_loop.exit();
            }
        };
        let sample = FrameSample {
            interval_ms: interval.as_secs_f32() * 1000.0,
            systems: tick.systems,
            render_ms,
            present_ms,
            steps: tick.steps,
        };
        self.finish_frame(sample, now);
    }

    /// Rasterises the particles and the HUD into the frame; returns the time taken in ms.
    fn draw(&mut self, view: Viewport) -> f32 {
        let Some(gfx) = self.gfx.as_mut() else {
            return 0.0;
        };
        let start = Instant::now();
        let frame = gfx.pixels.frame_mut();
        let alpha = self.session.alpha();
        self.raster.draw(frame, view, self.session.world(), alpha);
        hud::draw(frame, view.width, view.height, &self.hud);
        start.elapsed().as_secs_f32() * 1000.0
    }

    /// Presents the frame on a helper thread while the simulation runs the steps due after
    /// `elapsed` seconds. Presenting is mostly waiting (on the GPU, or on the X server and a
    /// software renderer), so the two overlap; the picture lags the simulation by a frame.
    /// Returns the steps' times and the present time in ms.
    fn present_while_simulating(&mut self, elapsed: f64) -> (Tick, Result<f32, String>) {
        let session = &mut self.session;
        let Some(gfx) = self.gfx.as_ref() else {
            return (session.tick(elapsed), Ok(0.0));
        };
        std::thread::scope(|scope| {
            let present = scope.spawn(|| {
                let start = Instant::now();
                gfx.pixels
                    .render()
                    .map(|()| start.elapsed().as_secs_f32() * 1000.0)
                    .map_err(|e| format!("present failed: {e}"))
            });
            let tick = session.tick(elapsed);
            let present = present
                .join()
                .unwrap_or_else(|_| Err("present failed: the graphics driver panicked".into()));
            (tick, present)
        })
    }

    /// F5: starts recording, or stops and writes the file.
    fn toggle_recording(&mut self) -> Outcome {
        if self.session.recording() {
            return self.save_recording();
        }
        self.session.start_recording()
    }

    /// Stops recording and writes what was recorded.
    fn save_recording(&mut self) -> Outcome {
        let Some(recording) = self.session.stop_recording() else {
            return Outcome::error("record: not recording".into());
        };
        // Each recording gets a file of its own: `--record PATH` names the first.
        let path = self
            .record_to
            .take()
            .unwrap_or_else(|| stamped("session.replay"));
        match file::save(&recording, &path) {
            Ok(()) => Outcome::ok(format!(
                "record: saved {} ({} events, {})",
                path.display(),
                recording.events.len(),
                recording.end.line()
            )),
            Err(e) => Outcome::error(format!("record: {e}")),
        }
    }

    fn finish_frame(&mut self, sample: FrameSample, now: Instant) {
        if let Some(done) = self.session.take_replay_done() {
            self.announce(done);
        }
        self.hud.push(sample.clone());
        self.frames += 1;
        let world = self.session.world();
        if let Some(line) = self.perf.record(sample, now, world.len(), world.strategy()) {
            crate::out!("{line}");
        }
        if self.frames == 1 || self.frames.is_multiple_of(FRAME_LOG_EVERY) {
            crate::out!(
                "frame {} drawn: {} particles, step {}",
                self.frames,
                world.len(),
                world.steps()
            );
        }
    }

    /// Copies what the HUD shows from the session; expires the notice.
    fn refresh_hud(&mut self, now: Instant) {
        let world = self.session.world();
        let hud = &mut self.hud;
        if hud.scene != world.scene().display_name() {
            hud.scene = world.scene().display_name().into_owned();
        }
        hud.particles = world.len();
        hud.budget = world.budget();
        hud.strategy = self.session.target();
        hud.pending = self.session.pending();
        hud.step_allocations = world.world().step_allocations();
        hud.contention = world.world().contention();
        hud.pages = engine::pages::page_size();
        if self.frames.is_multiple_of(HUGE_PAGES_EVERY) {
            hud.huge_page_bytes = engine::pages::huge_page_bytes();
        }
        hud.paused = self.session.paused();
        hud.conditions = Conditions::new(
            world.scene(),
            world.mouse_held(),
            world.previous_positions().is_some(),
        );
        hud.counters.clear();
        hud.counters
            .extend(world.counter_totals().map(|(n, t)| (n.to_owned(), t)));
        if self.notice_until.is_some_and(|t| now >= t) {
            hud.notice = None;
            self.notice_until = None;
        }
    }

    /// Holds the attractor under the cursor while a button is down (left pulls, right
    /// pushes).
    fn update_mouse(&mut self, view: Viewport) {
        let m = &self.mouse;
        let at = m.held().map(|p| view.to_world(p.x, p.y));
        let repel = m.right && !m.left;
        self.session.set_mouse(at, repel);
    }

    /// Makes the framebuffer match the window's inner size (after a resize, a scale-factor
    /// change or a restore); a minimised window (0x0) keeps its buffer, and one larger than
    /// the GPU's textures keeps drawing at the size it had.
    fn sync_size(&mut self) -> Result<(), String> {
        let Some(gfx) = self.gfx.as_mut() else {
            return Ok(());
        };
        let size = gfx.window.inner_size();
        let seen = (size.width, size.height);
        if seen == gfx.seen {
            return Ok(());
        }
        // Recorded first, so a failing size is not retried (or reported) every frame.
        gfx.seen = seen;
        let max_side = gfx.pixels.device().limits().max_texture_dimension_2d;
        match resize_plan((gfx.width, gfx.height), seen, max_side) {
            Resize::Keep | Resize::Hide => Ok(()),
            Resize::TooLarge => Err(format!(
                "cannot resize to {}x{}: the GPU's textures are at most {max_side} pixels a \
                 side; drawing at {}x{}",
                seen.0, seen.1, gfx.width, gfx.height
            )),
            Resize::To(width, height) => {
                gfx.resize(width, height)?;
                crate::out!("resized: {width}x{height}");
                Ok(())
            }
        }
    }

    fn on_key(&mut self, event_loop: &ActiveEventLoop, event: &KeyEvent) {
        if event.state != ElementState::Pressed {
            return;
        }
        let Some(command) = keys::command_for(&event.logical_key, event.repeat) else {
            return;
        };
        let outcome = match command {
            Command::Sim(action) => self.session.apply(action, &self.catalog),
            Command::Ui(UiAction::ToggleHud) => {
                self.hud.visible = !self.hud.visible;
                Outcome::ok(format!("hud: {}", on_off(self.hud.visible)))
            }
            Command::Ui(UiAction::ToggleHelp) => {
                self.hud.help = !self.hud.help;
                Outcome::ok(format!("help: {}", on_off(self.hud.help)))
            }
            Command::Ui(UiAction::ToggleLayout) => {
                self.hud.layout = !self.hud.layout;
                Outcome::ok(format!("layout panel: {}", on_off(self.hud.layout)))
            }
            Command::Ui(UiAction::Screenshot) => self.screenshot(),
            Command::Ui(UiAction::Record) => self.toggle_recording(),
            Command::Ui(UiAction::Quit) => {
                crate::out!("quit (Esc) after {} frames", self.frames);
                event_loop.exit();
                return;
            }
        };
        self.announce(outcome);
    }

    /// Saves the last drawn frame (particles and HUD) as a PNG in the current directory.
    fn screenshot(&self) -> Outcome {
        let Some(gfx) = self.gfx.as_ref() else {
            return Outcome::error("screenshot: no window yet".into());
        };
        let texture = gfx.pixels.texture().size();
        let path = stamped(&format!("{}.png", self.frames));
        match write_png(&path, texture.width, texture.height, gfx.pixels.frame()) {
            Ok(()) => Outcome::ok(format!("screenshot: {}", path.display())),
            Err(e) => Outcome::error(format!("screenshot: {e}")),
        }
    }

    /// Prints the outcome's line and shows it as a notice.
    fn announce(&mut self, outcome: Outcome) {
        crate::out!("{}", outcome.line);
        self.hud.notice = Some(Notice {
            text: outcome.line,
            error: outcome.error,
        });
        self.notice_until = Some(Instant::now() + NOTICE_FOR);
    }

    /// Whether `id` is the top-level window's (not the canvas's).
    fn is_window(&self, id: WindowId) -> bool {
        self.gfx.as_ref().is_some_and(|g| g.window.id() == id)
    }

    fn on_mouse(&mut self, event: &WindowEvent) {
        match *event {
            WindowEvent::CursorMoved { position, .. } => self.mouse.at = Some(position),
            WindowEvent::CursorLeft { .. } => self.mouse.at = None,
            WindowEvent::MouseInput { state, button, .. } => {
                let down = state == ElementState::Pressed;
                match button {
                    MouseButton::Left => self.mouse.left = down,
                    MouseButton::Right => self.mouse.right = down,
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn fps_text(period_ms: f32) -> String {
    if period_ms > 0.0 {
        format!("{:.0}", 1000.0 / period_ms)
    } else {
        "uncapped".into()
    }
}

/// Opens the canvas: a child window of `parent` at its top-left corner, `w` x `h` pixels,
/// that the framebuffer presents to (see [`Gfx`]).
fn open_canvas(
    event_loop: &ActiveEventLoop,
    parent: &Window,
    w: u32,
    h: u32,
) -> Result<Window, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot open the drawing area: {e}");
    let handle = parent.window_handle().map_err(|e| fail(&e))?.as_raw();
    let attributes = Window::default_attributes()
        .with_title(format!("{TITLE} (canvas)"))
        .with_inner_size(PhysicalSize::new(w, h))
        .with_position(PhysicalPosition::new(0, 0))
        .with_decorations(false);
    // SAFETY: `handle` is the live parent window's, and the parent outlives the canvas:
    // both live in `Gfx`, which drops the canvas first.
    let attributes = unsafe { attributes.with_parent_window(Some(handle)) };
    event_loop.create_window(attributes).map_err(|e| fail(&e))
}

/// Builds the framebuffer, falling back to Vulkan when the default backends find no adapter
/// (as under Xvfb with software Vulkan, where the GL backend fails).
///
/// `pixels` defaults to sRGB formats, which convert every pixel twice (decode on sampling,
/// encode on writing) for no visible change: the bytes come out as they went in. Software
/// renderers (lavapipe) pay for that on the CPU, so when the surface offers a plain 8-bit
/// format the framebuffer is rebuilt with plain formats and no blending (about 40% less
/// CPU for presenting under lavapipe, measured). The first build only probes the surface.
fn build_pixels(window: &Arc<Window>, w: u32, h: u32) -> Result<Pixels<'static>, String> {
    let probe = match build(window, w, h, None, None) {
        Ok(pixels) => pixels,
        Err(first_error) => build(window, w, h, Some(wgpu::Backends::VULKAN), None)
            .map_err(|e| format!("no graphics adapter: {first_error}; Vulkan fallback: {e}"))?,
    };
    let Some(plain) = plain_format(&probe) else {
        return Ok(probe);
    };
    let backend = wgpu::Backends::from(probe.adapter().get_info().backend);
    // Only one swapchain per window: the probe goes before the rebuild.
    drop(probe);
    build(window, w, h, Some(backend), Some(plain))
        .or_else(|_| build(window, w, h, Some(backend), None))
        .map_err(|e| format!("cannot rebuild the framebuffer: {e}"))
}

/// A non-sRGB 8-bit surface format the surface supports, if any.
fn plain_format(pixels: &Pixels) -> Option<wgpu::TextureFormat> {
    let offered = &pixels.context().surface_capabilities.formats;
    [
        wgpu::TextureFormat::Bgra8Unorm,
        wgpu::TextureFormat::Rgba8Unorm,
    ]
    .into_iter()
    .find(|f| offered.contains(f))
}

/// One framebuffer build: `backends` (default: all, or `WGPU_BACKEND`), and with
/// `plain`, plain formats and no blending.
fn build(
    window: &Arc<Window>,
    w: u32,
    h: u32,
    backends: Option<wgpu::Backends>,
    plain: Option<wgpu::TextureFormat>,
) -> Result<Pixels<'static>, pixels::Error> {
    let mut builder = PixelsBuilder::new(w, h, SurfaceTexture::new(w, h, Arc::clone(window)));
    if let Some(backends) = backends {
        builder = builder.wgpu_backend(backends);
    }
    if let Some(format) = plain {
        builder = builder
            .texture_format(wgpu::TextureFormat::Rgba8Unorm)
            .surface_texture_format(format)
            .blend_state(wgpu::BlendState::REPLACE);
    }
    builder.build()
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_none()
            && let Err(e) = self.open(event_loop)
        {
            self.error = Some(Failure::runtime(e));
            event_loop.exit();
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, id: WindowId, event: WindowEvent) {
        match &event {
            WindowEvent::CloseRequested => {
                crate::out!("quit (window closed) after {} frames", self.frames);
                event_loop.exit();
            }
            WindowEvent::Resized(_) | WindowEvent::ScaleFactorChanged { .. } => {
                if let Err(e) = self.sync_size() {
                    self.announce(Outcome::error(e));
                }
            }
            // One frame per frame: the canvas is drawn with the window, not on its own.
            WindowEvent::RedrawRequested if self.is_window(id) => self.redraw(event_loop),
            WindowEvent::RedrawRequested => {}
            // winit replays held keys as synthetic presses when the window gains focus:
            // a key pressed right after focusing would act twice.
            WindowEvent::KeyboardInput {
                event,
                is_synthetic: false,
                ..
            } => self.on_key(event_loop, event),
            _ => self.on_mouse(&event),
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let Some(gfx) = &self.gfx else {
            return;
        };
        if self.pacer.due(Instant::now()) {
            gfx.window.request_redraw();
        }
        event_loop.set_control_flow(match self.pacer.deadline() {
            Some(deadline) => ControlFlow::WaitUntil(deadline),
            None => ControlFlow::Poll,
        });
    }
}

/// `sim-<unix seconds>-<suffix>` in the current directory (screenshots, recordings).
fn stamped(suffix: &str) -> PathBuf {
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!("sim-{stamp}-{suffix}");
    std::env::current_dir().map_or_else(|_| PathBuf::from(&name), |d| d.join(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_framebuffer_follows_the_window_within_the_texture_limit() {
        let max = 8192;
        assert_eq!(resize_plan((1280, 720), (1280, 720), max), Resize::Keep);
        assert_eq!(resize_plan((1280, 720), (1, 1), max), Resize::To(1, 1));
        assert_eq!(
            resize_plan((1, 1), (8192, 8192), max),
            Resize::To(8192, 8192)
        );
        assert_eq!(resize_plan((1280, 720), (8193, 600), max), Resize::TooLarge);
        assert_eq!(
            resize_plan((1280, 720), (600, 20_000), max),
            Resize::TooLarge
        );
    }

    #[test]
    fn minimised_keeps_the_framebuffer_and_restoring_needs_no_rebuild() {
        let max = 8192;
        for hidden in [(0, 0), (0, 720), (1280, 0)] {
            assert_eq!(resize_plan((1280, 720), hidden, max), Resize::Hide);
        }
        // Restored at the size it had: the framebuffer is still right.
        assert_eq!(resize_plan((1280, 720), (1280, 720), max), Resize::Keep);
        assert_eq!(
            resize_plan((1280, 720), (1600, 900), max),
            Resize::To(1600, 900)
        );
    }
}
