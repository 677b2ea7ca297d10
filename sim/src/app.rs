//! The window: winit 0.30 `ApplicationHandler`, a `pixels` framebuffer at window size, the
//! fixed-step loop driven by wall-clock time.

use crate::Failure;
use crate::cli::WindowArgs;
use crate::render::{self, Viewport};
use engine::timestep::FixedTimestep;
use engine::world::World;
use pixels::{Pixels, PixelsBuilder, SurfaceTexture, wgpu};
use std::sync::Arc;
use std::time::Instant;
use winit::application::ApplicationHandler;
use winit::dpi::LogicalSize;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

/// The window title.
pub const TITLE: &str = "sim - particle engine";

/// Opens the window and runs until it is closed.
pub fn run(args: &WindowArgs) -> Result<(), Failure> {
    let scene = args.scene.load().map_err(Failure::runtime)?;
    let event_loop = EventLoop::new().map_err(|_| {
        Failure::runtime(
            "no display found (is DISPLAY set?); headless commands work without one: \
             `sim run --frames N`, `sim bench`, `sim snapshot --frames N --out shot.png`",
        )
    })?;
    event_loop.set_control_flow(ControlFlow::Poll);
    let world = World::new(scene, args.strategy.strategy());
    let mut app = App {
        world,
        clock: None,
        window: None,
        pixels: None,
        last: Instant::now(),
        alpha: 0.0,
        frames: 0,
        error: None,
    };
    event_loop
        .run_app(&mut app)
        .map_err(|e| Failure::runtime(format!("window event loop failed: {e}")))?;
    match app.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct App {
    world: World,
    clock: Option<FixedTimestep>,
    window: Option<Arc<Window>>,
    pixels: Option<Pixels<'static>>,
    last: Instant,
    alpha: f32,
    frames: u64,
    error: Option<Failure>,
}

impl App {
    fn fail(&mut self, event_loop: &ActiveEventLoop, message: String) {
        self.error = Some(Failure::runtime(message));
        event_loop.exit();
    }

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
        let (w, h) = (size.width.max(1), size.height.max(1));
        let pixels = build_pixels(Arc::clone(&window), w, h)?;
        println!(
            "window opened: {w}x{h}, scene '{}', {} particles",
            self.world.scene().display_name(),
            self.world.len()
        );
        self.window = Some(window);
        self.pixels = Some(pixels);
        let s = &self.world.scene().world;
        self.clock = Some(FixedTimestep::new(f64::from(s.dt), s.max_steps_per_frame));
        self.last = Instant::now();
        Ok(())
    }

    fn redraw(&mut self) -> Result<(), String> {
        let (Some(pixels), Some(clock)) = (self.pixels.as_mut(), self.clock.as_mut()) else {
            return Ok(());
        };
        let now = Instant::now();
        let frame = clock.advance((now - self.last).as_secs_f64());
        self.last = now;
        self.world.run(u64::from(frame.steps));
        self.alpha = frame.alpha;
        let texture = pixels.texture().size();
        let view = Viewport {
            width: texture.width,
            height: texture.height,
            world: self.world.bounds(),
        };
        render::draw(pixels.frame_mut(), view, &self.world, self.alpha);
        pixels
            .render()
            .map_err(|e| format!("present failed: {e}"))?;
        self.frames += 1;
        if self.frames == 1 || self.frames.is_multiple_of(300) {
            println!(
                "frame {} drawn: {} particles, step {}",
                self.frames,
                self.world.len(),
                self.world.steps()
            );
        }
        Ok(())
    }

    fn resize(&mut self, width: u32, height: u32) -> Result<(), String> {
        // Minimised windows report 0x0: keep the old buffer until a real size comes back.
        if width == 0 || height == 0 {
            return Ok(());
        }
        if let Some(pixels) = self.pixels.as_mut() {
            pixels
                .resize_surface(width, height)
                .map_err(|e| format!("resize failed: {e}"))?;
            pixels
                .resize_buffer(width, height)
                .map_err(|e| format!("resize failed: {e}"))?;
        }
        Ok(())
    }
}

/// Builds the framebuffer, falling back to Vulkan when the default backends find no adapter
/// (as under Xvfb with software Vulkan, where the GL backend fails).
fn build_pixels(window: Arc<Window>, w: u32, h: u32) -> Result<Pixels<'static>, String> {
    let first = PixelsBuilder::new(w, h, SurfaceTexture::new(w, h, Arc::clone(&window))).build();
    match first {
        Ok(pixels) => Ok(pixels),
        Err(first_error) => PixelsBuilder::new(w, h, SurfaceTexture::new(w, h, window))
            .wgpu_backend(wgpu::Backends::VULKAN)
            .build()
            .map_err(|e| format!("no graphics adapter: {first_error}; Vulkan fallback: {e}")),
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_none()
            && let Err(e) = self.open(event_loop)
        {
            self.fail(event_loop, e);
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        let result = match event {
            WindowEvent::CloseRequested => {
                event_loop.exit();
                Ok(())
            }
            WindowEvent::Resized(size) => self.resize(size.width, size.height),
            WindowEvent::RedrawRequested => self.redraw(),
            WindowEvent::KeyboardInput {
                event:
                    KeyEvent {
                        logical_key: Key::Named(NamedKey::Escape),
                        state: ElementState::Pressed,
                        ..
                    },
                ..
            } => {
                println!("quit (Esc) after {} frames", self.frames);
                event_loop.exit();
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.fail(event_loop, e);
        }
    }

    fn about_to_wait(&mut self, _event_loop: &ActiveEventLoop) {
        if let Some(window) = &self.window {
            window.request_redraw();
        }
    }
}
