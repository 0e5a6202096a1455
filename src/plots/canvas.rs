//! Rendering one figure to both a PNG (bitmap backend, encoded with `image`)
//! and an SVG, and the bundled font.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::PlotError;

/// DejaVu Sans (Bitstream Vera license, see assets/fonts/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// A written plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub title: String,
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// Something drawable on any plotters backend.
pub(crate) trait Figure {
    fn title(&self) -> String;
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// `Result<_, impl Display>` → `Result<_, String>` inside drawing code.
pub(crate) trait Ctx<T> {
    fn ctx(self) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Draws the legend box every figure uses (translucent white, black border,
/// 13 px labels) at `position`.
pub(crate) fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(position)
        .draw()
        .ctx()
}

fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            for family in ["sans-serif", "serif", "monospace"] {
                plotters::style::register_font(family, style, FONT)
                    .map_err(|_| "bundled font is invalid".to_owned())?;
            }
        }
        Ok(())
    })
    .clone()
}

/// Draws `fig` into `<stem>.png` and `<stem>.svg`.
pub(crate) fn save(fig: &impl Figure, stem: &Path) -> Result<Plot, PlotError> {
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let draw_err = |path: &Path, reason: String| PlotError::Draw {
        path: path.to_owned(),
        reason,
    };
    register_font().map_err(|r| draw_err(&png, r))?;
    let (w, h) = fig.size();

    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(|r| draw_err(&png, r))?;
        fig.draw(&root).map_err(|r| draw_err(&png, r))?;
        root.present().ctx().map_err(|r| draw_err(&png, r))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| draw_err(&png, "bitmap buffer has the wrong size".into()))?;
    img.save(&png).map_err(|e| draw_err(&png, e.to_string()))?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(|r| draw_err(&svg, r))?;
        fig.draw(&root).map_err(|r| draw_err(&svg, r))?;
        root.present().ctx().map_err(|r| draw_err(&svg, r))?;
    }
    std::fs::write(&svg, text).map_err(|source| PlotError::Io {
        path: svg.clone(),
        source,
    })?;
    Ok(Plot {
        title: fig.title(),
        png,
        svg,
    })
}

/// Distinct line colours.
pub(crate) fn color(i: usize) -> RGBColor {
    const C: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(127, 127, 127),
    ];
    C[i % C.len()]
}
