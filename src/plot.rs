//! Pictures of a run, drawn from an output folder's CSVs: `raster.png` (spikes of every
//! recorded population with a population-rate panel below), `rates.png` (box plots of the
//! per-neuron rates and ISI CVs of each population), `voltages.png` (recorded membrane
//! potentials) and, for f–I sweeps, `fi.png` (rate against injected current with the
//! closed form of the LIF spec, section 6, overlaid).
//!
//! Plots are drawn after a run (and again by `galvani plot DIR`) by reading the CSVs once,
//! line by line. Memory is bounded by the picture, not by the run: the raster is
//! accumulated into a grid of spike counts per pixel (a raster of 10⁶ spikes is one pass
//! over the file, never 10⁶ drawn markers), the rate panel into fixed time bins, the box
//! plots into a few numbers per neuron, and each voltage trace into a min/max envelope of
//! at most [`ENVELOPE_COLUMNS`] columns. Each picture says when it was rasterised or
//! enveloped.
//!
//! Text uses DejaVu Sans, embedded in the binary (`assets/fonts`), so plots render on a
//! machine with no system fonts.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use galvani::error::{Error, Result};

/// Size of `raster.png` (pixels).
pub const RASTER_SIZE: (u32, u32) = (1600, 1000);
/// Size of `voltages.png` (pixels).
pub const VOLTAGE_SIZE: (u32, u32) = (1600, 900);
/// Size of `fi.png` (pixels).
pub const FI_SIZE: (u32, u32) = (1400, 900);
/// Voltage traces drawn at most (the first ones in the file).
pub const MAX_TRACES: usize = 10;
/// Time columns of a voltage trace's envelope when it has more samples than that.
pub const ENVELOPE_COLUMNS: usize = 2000;
/// Spikes of a voltage trace are marked when it has at most this many.
pub const MAX_MARKS: usize = 400;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Registers the embedded font (once per process).
fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the embedded font is not a valid TrueType font");
        }
    });
}

/// Colours of populations (and traces), in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Plot(format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// What a folder holds
// ---------------------------------------------------------------------------------------

/// A population as the plots see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PopMeta {
    /// Name (as in the CSVs).
    pub name: String,
    /// Neurons (from summary.json, or 1 + the largest index in the CSVs).
    pub size: usize,
    /// Whether its spikes are in spikes.csv.
    pub recorded: bool,
}

/// What the plots need to know about a run: from `summary.json` when there is one,
/// otherwise read off the CSVs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    /// A name for titles (the config's file stem, or the folder's name).
    pub name: String,
    /// Simulated time (ms).
    pub duration_ms: f64,
    /// Time step (ms), when known.
    pub dt_ms: Option<f64>,
    /// Populations, in config order.
    pub populations: Vec<PopMeta>,
    /// False when summary.json says the run was stopped early.
    pub complete: bool,
    /// The config file the run used (as given to `galvani run`), when known.
    pub config: Option<String>,
    /// The run's seed, when known.
    pub seed: Option<u64>,
}

impl RunMeta {
    /// Reads `dir/summary.json`, or failing that, scans the CSVs.
    pub fn load(dir: &Path) -> Result<RunMeta> {
        let sp = dir.join("summary.json");
        if let Ok(text) = std::fs::read_to_string(&sp) {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::Usage(format!("{}: not valid JSON: {e}", sp.display())))?;
            if let Some(m) = Self::from_summary(&v) {
                return Ok(m);
            }
            return Err(Error::Usage(format!(
                "{}: lacks duration_ms or populations",
                sp.display()
            )));
        }
        Self::from_csvs(dir)
    }

    fn from_summary(v: &serde_json::Value) -> Option<RunMeta> {
        let config = v["config"].as_str().map(String::from);
        let name = config
            .as_deref()
            .and_then(|c| Path::new(c).file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let populations = v["populations"]
            .as_array()?
            .iter()
            .map(|p| {
                Some(PopMeta {
                    name: p["name"].as_str()?.to_string(),
                    size: p["size"].as_u64()? as usize,
                    recorded: p["recorded"].as_bool().unwrap_or(true),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RunMeta {
            name,
            duration_ms: v["duration_ms"].as_f64()?,
            dt_ms: v["dt_ms"].as_f64(),
            populations,
            complete: v["complete"].as_bool().unwrap_or(true),
            config,
            seed: v["seed"].as_u64(),
        })
    }

    /// Without summary.json: populations in order of first appearance, sizes from the
    /// largest neuron index, duration from the last line of each CSV (they are sorted by
    /// time).
    fn from_csvs(dir: &Path) -> Result<RunMeta> {
        let mut pops: Vec<PopMeta> = Vec::new();
        let mut duration: f64 = 0.0;
        let mut any = false;
        for (file, recorded) in [("spikes.csv", true), ("voltages.csv", false)] {
            let path = dir.join(file);
            if !path.exists() {
                continue;
            }
            any = true;
            if let Some(t) = last_time(&path)? {
                duration = duration.max(t);
            }
            let mut lines = Lines::open(&path)?;
            while let Some(row) = lines.next_row()? {
                let name = row.pop;
                let k = match pops.iter().position(|p| p.name.as_bytes() == name) {
                    Some(k) => k,
                    None => {
                        pops.push(PopMeta {
                            name: String::from_utf8_lossy(name).into_owned(),
                            size: 0,
                            recorded: false,
                        });
                        pops.len() - 1
                    }
                };
                pops[k].size = pops[k].size.max(row.neuron as usize + 1);
                pops[k].recorded |= recorded;
            }
        }
        if !any {
            return Err(Error::Usage(format!(
                "{}: no spikes.csv, voltages.csv or summary.json to plot",
                dir.display()
            )));
        }
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "run".into());
        Ok(RunMeta {
            name,
            duration_ms: duration,
            dt_ms: None,
            populations: pops,
            complete: true,
            config: None,
            seed: None,
        })
    }

    fn pop_index(&self, name: &[u8]) -> Option<usize> {
        self.populations
            .iter()
            .position(|p| p.name.as_bytes() == name)
    }

    /// The index of population `name`.
    pub fn pop_index_of(&self, name: &str) -> Option<usize> {
        self.pop_index(name.as_bytes())
    }

    fn span_ms(&self) -> f64 {
        if self.duration_ms > 0.0 {
            self.duration_ms
        } else {
            1.0
        }
    }

    fn title_suffix(&self) -> String {
        if self.complete {
            String::new()
        } else {
            format!(" (incomplete: stopped at {} ms)", fmt_num(self.duration_ms))
        }
    }
}

/// The time of the last line of a time-sorted CSV, read from its tail.
fn last_time(path: &Path) -> Result<Option<f64>> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let start = len.saturating_sub(4096);
    f.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(path, e))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(|e| Error::io(path, e))?;
    Ok(tail
        .split(|&b| b == b'\n')
        .rev()
        .filter_map(|l| {
            let f = l.split(|&b| b == b',').next()?;
            std::str::from_utf8(f).ok()?.trim().parse::<f64>().ok()
        })
        .next())
}

// ---------------------------------------------------------------------------------------
// Streaming CSV rows
// ---------------------------------------------------------------------------------------

/// One row of spikes.csv (`time_ms,population,neuron`) or voltages.csv (`…,v_mv`).
struct Row<'a> {
    t: f64,
    pop: &'a [u8],
    neuron: u32,
    v: f64,
}

/// Reads a galvani CSV row by row with one reused buffer.
struct Lines {
    path: PathBuf,
    r: BufReader<File>,
    buf: Vec<u8>,
    line: u64,
    voltages: bool,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut l = Lines {
            path: path.to_path_buf(),
            r: BufReader::with_capacity(1 << 20, f),
            buf: Vec::with_capacity(256),
            line: 0,
            voltages: false,
        };
        match l.raw()? {
            Some(h) if h == b"time_ms,population,neuron" => {}
            Some(h) if h == b"time_ms,population,neuron,v_mv" => l.voltages = true,
            _ => {
                return Err(Error::Usage(format!(
                    "{}: expected the header time_ms,population,neuron[,v_mv]",
                    path.display()
                )));
            }
        }
        Ok(l)
    }

    /// The next line without its end-of-line; None at the end.
    fn raw(&mut self) -> Result<Option<&[u8]>> {
        self.buf.clear();
        let n = self
            .r
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut s = &self.buf[..];
        while let [rest @ .., b'\n' | b'\r'] = s {
            s = rest;
        }
        Ok(Some(s))
    }

    /// The next row. A malformed last line without its newline (a run killed while
    /// writing) ends the file; any other malformed line is an error.
    fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        let voltages = self.voltages;
        let (t, pop, neuron, v) = loop {
            if self.raw()?.is_none() {
                return Ok(None);
            }
            let complete_line = self.buf.last() == Some(&b'\n');
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if end == 0 {
                continue;
            }
            match parse_row(&self.buf[..end], voltages) {
                Some(r) => break r,
                None if !complete_line => return Ok(None),
                None => {
                    return Err(Error::Usage(format!(
                        "{}: line {}: expected time_ms,population,neuron{}",
                        self.path.display(),
                        self.line,
                        if voltages { ",v_mv" } else { "" }
                    )));
                }
            }
        };
        Ok(Some(Row {
            t,
            pop: &self.buf[pop],
            neuron,
            v,
        }))
    }
}

/// Parses a row into (time, byte range of the population name, neuron, voltage).
fn parse_row(s: &[u8], voltages: bool) -> Option<(f64, std::ops::Range<usize>, u32, f64)> {
    let c1 = s.iter().position(|&b| b == b',')?;
    let c2 = c1 + 1 + s[c1 + 1..].iter().position(|&b| b == b',')?;
    let t = parse_f64(&s[..c1])?;
    let rest = &s[c2 + 1..];
    let (neuron, v) = if voltages {
        let c3 = rest.iter().position(|&b| b == b',')?;
        (parse_u32(&rest[..c3])?, parse_f64(&rest[c3 + 1..])?)
    } else {
        (parse_u32(rest)?, 0.0)
    };
    Some((t, c1 + 1..c2, neuron, v))
}

fn parse_f64(b: &[u8]) -> Option<f64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 {
        return None;
    }
    let mut x: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        x = x * 10 + (c - b'0') as u64;
    }
    u32::try_from(x).ok()
}

/// Maps population names to indices, remembering the last hit (rows come in runs).
struct PopLookup<'m> {
    meta: &'m RunMeta,
    last: Option<usize>,
}

impl<'m> PopLookup<'m> {
    fn new(meta: &'m RunMeta) -> Self {
        PopLookup { meta, last: None }
    }
    fn get(&mut self, name: &[u8]) -> Option<usize> {
        if let Some(k) = self.last
            && self.meta.populations[k].name.as_bytes() == name
        {
            return Some(k);
        }
        let k = self.meta.pop_index(name)?;
        self.last = Some(k);
        Some(k)
    }
}

// ---------------------------------------------------------------------------------------
// Number formatting and axis helpers
// ---------------------------------------------------------------------------------------

pub use galvani::fi::FiNeuron;
pub use galvani::run::fmt_num;

/// The smallest "nice" value (1, 2 or 5 × 10^k) ≥ x.
fn nice_ceil(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= x * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

fn title_style() -> TextStyle<'static> {
    (FAMILY, 30).into_font().color(&BLACK)
}

fn caption_style() -> TextStyle<'static> {
    (FAMILY, 20).into_font().color(&RGBColor(60, 60, 60))
}

fn label_style() -> TextStyle<'static> {
    (FAMILY, 17).into_font().color(&BLACK)
}

fn desc_style() -> TextStyle<'static> {
    (FAMILY, 20).into_font().color(&BLACK)
}

type Plane<'a> = DrawingArea<BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a polyline of data points on a chart's plotting area as separate pixel segments,
/// clipped to the area. (One thick path has miter joins that shoot off at sharp turns,
/// as a min–max envelope has at every column; segments have no joins.)
fn polyline(
    plane: &Plane<'_>,
    pts: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
) -> std::result::Result<(), String> {
    let (xr, yr) = plane.get_pixel_range();
    let area = plane.strip_coord_spec();
    let mut last: Option<(i32, i32)> = None;
    for p in pts {
        let q = plane.map_coordinate(&p);
        let q = (q.0 - xr.start, q.1 - yr.start);
        if let Some(l) = last
            && l != q
        {
            area.draw(&PathElement::new(vec![l, q], style))
                .map_err(|e| e.to_string())?;
        }
        last = Some(q);
    }
    Ok(())
}

fn open_area(path: &Path, size: (u32, u32)) -> Result<DrawingArea<BitMapBackend<'_>, Shift>> {
    fonts();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    Ok(root)
}

// ---------------------------------------------------------------------------------------
// Raster
// ---------------------------------------------------------------------------------------

/// What [`raster`] drew.
#[derive(Debug, Clone, PartialEq)]
pub struct RasterInfo {
    /// Spikes read (of recorded populations, inside the time range).
    pub spikes: u64,
    /// Spikes per population (recorded ones; 0 for others).
    pub per_pop: Vec<u64>,
    /// The pixel grid (columns, rows) the spikes were counted into.
    pub grid: (usize, usize),
    /// Width of a rate bin (ms).
    pub bin_ms: f64,
}

/// Draws `out` (a raster of spikes.csv with a population-rate panel) for the run in `dir`.
///
/// Populations are stacked top-down in config order: the first one on top, as cortical
/// rasters put L2/3 above L6. Up to [`MAX_OVERLAID_RATES`] populations share one rate
/// axis below; more get one rate strip each, in the raster's order.
pub fn raster(dir: &Path, meta: &RunMeta, out: &Path) -> Result<RasterInfo> {
    let csv = dir.join("spikes.csv");
    let rec: Vec<usize> = (0..meta.populations.len())
        .filter(|&p| meta.populations[p].recorded && meta.populations[p].size > 0)
        .collect();
    // Row offsets of recorded populations, counted from the top, in config order.
    let mut row_of = vec![usize::MAX; meta.populations.len()];
    let mut rows = 0usize;
    for &p in &rec {
        row_of[p] = rows;
        rows += meta.populations[p].size;
    }
    let span = meta.span_ms();
    let rows_f = rows.max(1) as f64;

    let root = open_area(out, RASTER_SIZE)?;
    let title = format!(
        "{}: spikes of {} recorded neuron{} over {} ms{}",
        meta.name,
        rows,
        if rows == 1 { "" } else { "s" },
        fmt_num(meta.duration_ms),
        meta.title_suffix()
    );
    let body = root
        .titled(&title, title_style())
        .map_err(|e| plot_err(out, e))?;
    let (_, body_h) = body.dim_in_pixel();
    let (top, bottom) = body.split_vertically((body_h as f64 * 0.68) as u32);

    // The plotting area's pixels are known only once a chart is laid out; the caption,
    // which reports them, has the same height whatever it says.
    let (xr, yr) = panel_chart(&top, "placeholder", span, rows_f, out)?
        .plotting_area()
        .get_pixel_range();
    let gw = (xr.end - xr.start).max(1) as usize;
    let gh = (yr.end - yr.start).max(1) as usize;
    let cells = rows.clamp(1, gh);
    // Rate bins: about 200 over the run, never narrower than a step.
    let bin_ms = nice_ceil((span / 200.0).max(meta.dt_ms.unwrap_or(0.0)));
    let geometry = Geometry {
        row_of: &row_of,
        rows,
        gw,
        cells,
        span,
        bin_ms,
    };
    let tally = tally_spikes(&csv, meta, &geometry)?;

    let ms_per_px = span / gw as f64;
    let resolution = if rows > gh {
        format!(
            "1 px = {} ms × {} neurons",
            fmt_sig(ms_per_px),
            fmt_sig(rows as f64 / gh as f64)
        )
    } else {
        format!("1 px = {} ms, one row per neuron", fmt_sig(ms_per_px))
    };
    let spikes = tally.spikes;
    let caption = format!(
        "rasterised: {spikes} spike{} counted into a {gw} × {cells} pixel grid ({resolution}; darker = more spikes)",
        if spikes == 1 { "" } else { "s" }
    );
    top.fill(&WHITE).map_err(|e| plot_err(out, e))?;
    let mut chart = panel_chart(&top, &caption, span, rows_f, out)?;
    debug_assert_eq!(
        chart.plotting_area().get_pixel_range(),
        (xr.clone(), yr.clone())
    );
    let (tdesc, tdiv) = time_axis(span);
    chart
        .configure_mesh()
        .disable_mesh()
        // The neuron axis counts from the top, which plotters' axes cannot: its ticks
        // are drawn by `row_ticks`.
        .y_labels(0)
        .x_desc(tdesc)
        .y_desc("neuron (populations stacked, first on top)")
        .x_label_formatter(&|x| fmt_num(*x / tdiv))
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(|e| plot_err(out, e))?;
    row_ticks(&root, xr.start, &yr, rows).map_err(|e| plot_err(out, e))?;
    if !rec.is_empty() {
        paint_grid(&root, meta, &rec, &geometry, &tally.grid, (&xr, &yr))
            .map_err(|e| plot_err(out, e))?;
        population_labels(&root, meta, &rec, &row_of, rows, (&xr, &yr))
            .map_err(|e| plot_err(out, e))?;
    }

    let rates = bin_rates(meta, &tally.bins, bin_ms, span);
    let secs = meta.duration_ms / 1000.0;
    let means: Vec<f64> = (0..meta.populations.len())
        .map(|p| {
            if secs > 0.0 {
                tally.per_pop[p] as f64 / meta.populations[p].size.max(1) as f64 / secs
            } else {
                0.0
            }
        })
        .collect();
    let panel = RatePanel {
        meta,
        rec: &rec,
        rates: &rates,
        means: &means,
        bin_ms,
        span,
    };
    if rec.len() <= MAX_OVERLAID_RATES {
        panel.overlaid(&root, &bottom, out)?;
    } else {
        panel.strips(&root, &bottom, out)?;
    }
    root.present().map_err(|e| plot_err(out, e))?;
    Ok(RasterInfo {
        spikes,
        per_pop: tally.per_pop,
        grid: (gw, cells),
        bin_ms,
    })
}

/// Populations up to which the raster's rate panel overlays their rates on one axis;
/// with more, each gets a strip of its own (8 overlaid step lines are unreadable).
pub const MAX_OVERLAID_RATES: usize = 3;

type Area<'b> = DrawingArea<BitMapBackend<'b>, Shift>;
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel of the raster picture: time on x (0..span), `0..ymax` on y, the margins that
/// keep the raster and the rate panel below it aligned.
fn panel_chart<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    span: f64,
    ymax: f64,
    out: &Path,
) -> Result<Chart<'a, 'b>> {
    ChartBuilder::on(area)
        .margin(10)
        .margin_right(150)
        .x_label_area_size(45)
        .y_label_area_size(95)
        .caption(caption, caption_style())
        .build_cartesian_2d(0f64..span, 0f64..ymax)
        .map_err(|e| plot_err(out, e))
}

/// How spikes map to the raster's grid and the rate bins.
struct Geometry<'m> {
    /// First row of each population (usize::MAX when not drawn).
    row_of: &'m [usize],
    /// Rows (neurons) in all.
    rows: usize,
    /// Grid columns (pixels of the plotting area).
    gw: usize,
    /// Grid rows: one per neuron, or per pixel row when there are more neurons.
    cells: usize,
    span: f64,
    bin_ms: f64,
}

/// Spikes counted per grid cell and per rate bin.
struct Tally {
    /// Counts per cell, row-major, cell row 0 at the top.
    grid: Vec<u32>,
    /// Counts per population and rate bin.
    bins: Vec<Vec<u32>>,
    per_pop: Vec<u64>,
    spikes: u64,
}

/// Reads spikes.csv once into the grid and the rate bins.
fn tally_spikes(csv: &Path, meta: &RunMeta, g: &Geometry<'_>) -> Result<Tally> {
    let nbins = ((g.span / g.bin_ms).ceil() as usize).max(1);
    let mut t = Tally {
        grid: vec![0u32; g.gw * g.cells],
        bins: vec![vec![0u32; nbins]; meta.populations.len()],
        per_pop: vec![0u64; meta.populations.len()],
        spikes: 0,
    };
    if !csv.exists() {
        return Ok(t);
    }
    let mut lines = Lines::open(csv)?;
    let mut lookup = PopLookup::new(meta);
    while let Some(r) = lines.next_row()? {
        let Some(p) = lookup.get(r.pop) else { continue };
        let base = g.row_of[p];
        if base == usize::MAX || r.neuron as usize >= meta.populations[p].size {
            continue;
        }
        if !(r.t >= 0.0 && r.t <= g.span * (1.0 + 1e-9)) {
            continue;
        }
        let row = base + r.neuron as usize;
        let cell = (row as u128 * g.cells as u128 / g.rows as u128) as usize;
        let x = ((r.t / g.span * g.gw as f64) as usize).min(g.gw - 1);
        t.grid[cell * g.gw + x] = t.grid[cell * g.gw + x].saturating_add(1);
        let b = ((r.t / g.bin_ms) as usize).min(nbins - 1);
        t.bins[p][b] += 1;
        t.per_pop[p] += 1;
        t.spikes += 1;
    }
    Ok(t)
}

type DrawResult = std::result::Result<(), String>;

/// Ticks of the neuron axis, counted from the top edge of the raster (row 0).
fn row_ticks(root: &Area<'_>, x_axis: i32, yr: &std::ops::Range<i32>, rows: usize) -> DrawResult {
    let gh = (yr.end - yr.start) as f64;
    let step = (nice_ceil(rows as f64 / 8.0) as usize).max(1);
    let style = label_style().pos(Pos::new(HPos::Right, VPos::Center));
    for r in (0..=rows).step_by(step) {
        let y = yr.start + (r as f64 / rows.max(1) as f64 * gh).round() as i32;
        root.draw(&PathElement::new(vec![(x_axis - 6, y), (x_axis, y)], BLACK))
            .map_err(|e| e.to_string())?;
        root.draw_text(&fmt_num(r as f64), &style, (x_axis - 9, y))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Paints the grid: cell → population colour, shade by count (log scale against the
/// population's 95th percentile of non-empty cells).
fn paint_grid(
    root: &Area<'_>,
    meta: &RunMeta,
    rec: &[usize],
    g: &Geometry<'_>,
    grid: &[u32],
    (xr, yr): (&std::ops::Range<i32>, &std::ops::Range<i32>),
) -> DrawResult {
    let (gw, cells, rows) = (g.gw, g.cells, g.rows);
    let gh = (yr.end - yr.start).max(1) as usize;
    let pop_of_row = |row: usize| -> usize {
        let k = rec.partition_point(|&p| g.row_of[p] + meta.populations[p].size <= row);
        rec[k.min(rec.len() - 1)]
    };
    let cell_pop: Vec<usize> = (0..cells)
        .map(|c| pop_of_row((c as u128 * rows as u128 / cells as u128) as usize))
        .collect();
    let mut q95 = vec![1u32; meta.populations.len()];
    for &p in rec {
        let mut nz: Vec<u32> = (0..cells)
            .filter(|&c| cell_pop[c] == p)
            .flat_map(|c| grid[c * gw..(c + 1) * gw].iter().copied())
            .filter(|&n| n > 0)
            .collect();
        if !nz.is_empty() {
            let k = (nz.len() * 95 / 100).min(nz.len() - 1);
            let (_, v, _) = nz.select_nth_unstable(k);
            q95[p] = (*v).max(1);
        }
    }
    // Few neurons: each gets a band with a gap, and spikes are two pixels wide to show.
    let band = gh as f64 / cells as f64;
    let (inset, wide) = if band >= 4.0 {
        ((band * 0.15).floor() as i32, true)
    } else {
        (0, false)
    };
    for c in 0..cells {
        let p = cell_pop[c];
        let col = colour(rec.iter().position(|&q| q == p).unwrap_or(0));
        let y_lo = yr.start + (c as f64 * band).round() as i32;
        let y_hi = yr.start + ((c + 1) as f64 * band).round() as i32; // exclusive
        let (y0, y1) = (y_lo + inset, (y_hi - inset).max(y_lo + inset + 1));
        for x in 0..gw {
            let n = grid[c * gw + x];
            if n == 0 {
                continue;
            }
            let q = q95[p] as f64;
            let shade = if q <= 1.0 {
                1.0
            } else {
                (0.3 + 0.7 * ((1.0 + n as f64).ln() / (1.0 + q).ln())).min(1.0)
            };
            let rgb = RGBColor(mix(col.0, shade), mix(col.1, shade), mix(col.2, shade));
            let px = xr.start + x as i32;
            for y in y0..y1 {
                root.draw_pixel((px, y), &rgb).map_err(|e| e.to_string())?;
                if wide && px + 1 < xr.end {
                    root.draw_pixel((px + 1, y), &rgb)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(())
}

/// Height (px) of a population's label at the right of the raster: its name over its
/// neuron count.
const LABEL_H: f64 = 40.0;

/// Population names at the right of the raster, and separators between populations.
/// Labels sit level with their population's band; where bands are too thin for that
/// (L5I's 106 of 7717 neurons), [`spread_labels`] moves them apart and a leader line
/// joins each moved label to its band.
fn population_labels(
    root: &Area<'_>,
    meta: &RunMeta,
    rec: &[usize],
    row_of: &[usize],
    rows: usize,
    (xr, yr): (&std::ops::Range<i32>, &std::ops::Range<i32>),
) -> DrawResult {
    let gh = (yr.end - yr.start) as f64;
    let y_of_row = |r: f64| yr.start as f64 + r / rows.max(1) as f64 * gh;
    let band_mid: Vec<f64> = rec
        .iter()
        .map(|&p| y_of_row(row_of[p] as f64 + meta.populations[p].size as f64 / 2.0))
        .collect();
    // Name and count when they fit one above the other; else the name alone, smaller.
    let two_lines = rec.len() as f64 * LABEL_H <= gh;
    let h = if two_lines {
        LABEL_H
    } else {
        (gh / rec.len() as f64).min(22.0)
    };
    let name_px = if two_lines { 20.0 } else { (h - 2.0).max(8.0) };
    // A label is where it wants to be when its name is level with its band's middle.
    let name_mid_below_top = name_px * 0.55;
    let want: Vec<f64> = band_mid
        .iter()
        .map(|y| y + h / 2.0 - name_mid_below_top)
        .collect();
    let placed = spread_labels(&want, h, yr.start as f64, yr.end as f64);
    let x_text = xr.end + 14;
    for (k, &p) in rec.iter().enumerate() {
        let pm = &meta.populations[p];
        let top = placed[k] - h / 2.0;
        let name_mid = top + name_mid_below_top;
        if (placed[k] - want[k]).abs() > 2.0 {
            root.draw(&PathElement::new(
                vec![
                    (xr.end + 2, band_mid[k].round() as i32),
                    (x_text - 3, name_mid.round() as i32),
                ],
                RGBColor(120, 120, 120),
            ))
            .map_err(|e| e.to_string())?;
        }
        let style = (FAMILY, name_px).into_font().color(&colour(k));
        root.draw_text(&pm.name, &style, (x_text, top.round() as i32))
            .map_err(|e| e.to_string())?;
        if two_lines {
            let count = format!("{} neuron{}", pm.size, if pm.size == 1 { "" } else { "s" });
            root.draw_text(
                &count,
                &(FAMILY, 15).into_font().color(&RGBColor(90, 90, 90)),
                (x_text, (top + 22.0).round() as i32),
            )
            .map_err(|e| e.to_string())?;
        }
        if k > 0 {
            let y = y_of_row(row_of[p] as f64).round() as i32;
            root.draw(&PathElement::new(
                vec![(xr.start, y), (xr.end, y)],
                RGBColor(170, 170, 170),
            ))
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Centres for labels of height `h` that would like to be centred at `want` (in
/// increasing order, e.g. pixel rows from the top): each kept inside `[lo, hi]` and at
/// least `h` from the next, in the same order, with the least total squared movement.
/// Labels that do not crowd each other stay where they want to be.
///
/// With q_i = p_i − i·h the spacing constraint is "q non-decreasing", so the answer is
/// the isotonic regression of want_i − i·h (pool adjacent violators), clamped to the
/// bounds. When `want.len()` labels of height `h` do not fit into `[lo, hi]` at all,
/// they are spaced evenly over it (and overlap; callers make `h` small enough).
pub fn spread_labels(want: &[f64], h: f64, lo: f64, hi: f64) -> Vec<f64> {
    let n = want.len();
    if n == 0 {
        return Vec::new();
    }
    if n as f64 * h > hi - lo {
        let step = (hi - lo) / n as f64;
        return (0..n).map(|i| lo + (i as f64 + 0.5) * step).collect();
    }
    // Blocks of pooled labels: (sum of q, count).
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(n);
    for (i, &w) in want.iter().enumerate() {
        blocks.push((w - i as f64 * h, 1));
        while blocks.len() > 1 {
            let (s1, c1) = blocks[blocks.len() - 1];
            let (s0, c0) = blocks[blocks.len() - 2];
            if s0 / c0 as f64 <= s1 / c1 as f64 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().unwrap() = (s0 + s1, c0 + c1);
        }
    }
    let (q_lo, q_hi) = (lo + h / 2.0, hi - h / 2.0 - (n - 1) as f64 * h);
    let mut placed = Vec::with_capacity(n);
    for (s, c) in blocks {
        let q = (s / c as f64).clamp(q_lo, q_hi);
        for _ in 0..c {
            placed.push(q + placed.len() as f64 * h);
        }
    }
    placed
}

/// Spikes per neuron per second in each rate bin (the last bin may be shorter).
fn bin_rates(meta: &RunMeta, bins: &[Vec<u32>], bin_ms: f64, span: f64) -> Vec<Vec<f64>> {
    (0..meta.populations.len())
        .map(|p| {
            let n = meta.populations[p].size.max(1) as f64;
            bins[p]
                .iter()
                .enumerate()
                .map(|(b, &c)| {
                    let w = bin_ms.min(span - b as f64 * bin_ms).max(1e-12);
                    c as f64 / n / (w / 1000.0)
                })
                .collect()
        })
        .collect()
}

/// The population-rate panel below the raster.
struct RatePanel<'m> {
    meta: &'m RunMeta,
    rec: &'m [usize],
    /// Rate per population and bin (Hz).
    rates: &'m [Vec<f64>],
    /// Mean rate per population over the run (Hz).
    means: &'m [f64],
    bin_ms: f64,
    span: f64,
}

impl RatePanel<'_> {
    /// The steps of population `p`'s rate, `to_y` placing a rate on the y axis.
    fn steps(&self, p: usize, to_y: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(2 * self.rates[p].len());
        for (b, &r) in self.rates[p].iter().enumerate() {
            pts.push((b as f64 * self.bin_ms, to_y(r)));
            pts.push((((b + 1) as f64 * self.bin_ms).min(self.span), to_y(r)));
        }
        pts
    }

    /// Few populations: their rates overlaid on one axis, legend in the right margin.
    fn overlaid(&self, root: &Area<'_>, area: &Area<'_>, out: &Path) -> Result<()> {
        let rmax = self
            .rec
            .iter()
            .flat_map(|&p| self.rates[p].iter().copied())
            .fold(0.0f64, f64::max);
        let ymax = if rmax > 0.0 { rmax * 1.12 } else { 1.0 };
        let caption = format!(
            "population rate (spikes per neuron per second, bins of {} ms)",
            fmt_num(self.bin_ms)
        );
        let mut rc = panel_chart(area, &caption, self.span, ymax, out)?;
        let (tdesc, tdiv) = time_axis(self.span);
        rc.configure_mesh()
            .x_desc(tdesc)
            .y_desc("rate (Hz)")
            .x_label_formatter(&|x| fmt_num(*x / tdiv))
            .y_label_formatter(&|y| fmt_num(*y))
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .y_labels(5)
            .draw()
            .map_err(|e| plot_err(out, e))?;
        let (pxr, pyr) = rc.plotting_area().get_pixel_range();
        for (k, &p) in self.rec.iter().enumerate() {
            let col = colour(k);
            polyline(
                rc.plotting_area(),
                self.steps(p, |r| r),
                col.stroke_width(2),
            )
            .map_err(|e| plot_err(out, e))?;
            // Legend in the right margin, clear of the data: name, then the mean rate.
            let y = pyr.start + 10 + 48 * k as i32;
            root.draw(&PathElement::new(
                vec![(pxr.end + 10, y + 10), (pxr.end + 34, y + 10)],
                col.stroke_width(3),
            ))
            .map_err(|e| plot_err(out, e))?;
            root.draw_text(
                &self.meta.populations[p].name,
                &(FAMILY, 18).into_font().color(&col),
                (pxr.end + 40, y),
            )
            .map_err(|e| plot_err(out, e))?;
            root.draw_text(
                &format!("mean {} Hz", fmt_sig(self.means[p])),
                &(FAMILY, 15).into_font().color(&RGBColor(90, 90, 90)),
                (pxr.end + 40, y + 21),
            )
            .map_err(|e| plot_err(out, e))?;
        }
        Ok(())
    }

    /// Many populations: one strip each, top-down in the raster's order, each scaled to
    /// its own peak (rates differ tenfold between PD14's layers), named at the right.
    fn strips(&self, root: &Area<'_>, area: &Area<'_>, out: &Path) -> Result<()> {
        let n = self.rec.len();
        let caption = format!(
            "population rate (spikes per neuron per second, bins of {} ms), each strip to its own scale",
            fmt_num(self.bin_ms)
        );
        let mut rc = panel_chart(area, &caption, self.span, n as f64, out)?;
        let (tdesc, tdiv) = time_axis(self.span);
        rc.configure_mesh()
            .y_labels(0)
            .x_desc(tdesc)
            .y_desc("rate (Hz)")
            .x_label_formatter(&|x| fmt_num(*x / tdiv))
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .draw()
            .map_err(|e| plot_err(out, e))?;
        let (pxr, pyr) = rc.plotting_area().get_pixel_range();
        let strip_px = (pyr.end - pyr.start) as f64 / n as f64;
        // The peak sits a little below the strip's top, clear of the strip above.
        const FILL: f64 = 0.85;
        for (k, &p) in self.rec.iter().enumerate() {
            let col = colour(k);
            let base = (n - 1 - k) as f64;
            let peak = self.rates[p].iter().copied().fold(0.0f64, f64::max);
            let top = nice_ceil_fine(peak);
            let to_y = |r: f64| base + FILL * r / top;
            let light = RGBColor(mix(col.0, 0.3), mix(col.1, 0.3), mix(col.2, 0.3));
            rc.draw_series(self.rates[p].iter().enumerate().map(|(b, &r)| {
                let x0 = b as f64 * self.bin_ms;
                let x1 = ((b + 1) as f64 * self.bin_ms).min(self.span);
                Rectangle::new([(x0, base), (x1, to_y(r))], light.filled())
            }))
            .map_err(|e| plot_err(out, e))?;
            polyline(rc.plotting_area(), self.steps(p, to_y), col.stroke_width(1))
                .map_err(|e| plot_err(out, e))?;
            if k + 1 < n {
                polyline(
                    rc.plotting_area(),
                    [(0.0, base), (self.span, base)],
                    RGBColor(170, 170, 170).into(),
                )
                .map_err(|e| plot_err(out, e))?;
            }
            // The strip's scale: a tick at its top value, on the y axis.
            let y_top = pyr.start + ((k as f64 + 1.0 - FILL) * strip_px).round() as i32;
            root.draw(&PathElement::new(
                vec![(pxr.start - 6, y_top), (pxr.start, y_top)],
                BLACK,
            ))
            .map_err(|e| plot_err(out, e))?;
            root.draw_text(
                &fmt_num(top),
                &(FAMILY, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
                (pxr.start - 9, y_top),
            )
            .map_err(|e| plot_err(out, e))?;
            let mid = pyr.start + ((k as f64 + 0.5) * strip_px).round() as i32;
            self.strip_label(root, k, p, (pxr.end + 10, mid), strip_px)
                .map_err(|e| plot_err(out, e))?;
        }
        Ok(())
    }

    /// A strip's name and mean rate, centred on `mid`: on two lines when the strip is
    /// tall enough, else on one.
    fn strip_label(
        &self,
        root: &Area<'_>,
        k: usize,
        p: usize,
        (x, mid): (i32, i32),
        strip_px: f64,
    ) -> DrawResult {
        let name = &self.meta.populations[p].name;
        let mean = format!("mean {} Hz", fmt_sig(self.means[p]));
        let grey = RGBColor(90, 90, 90);
        let left = |v| Pos::new(HPos::Left, v);
        if strip_px >= 38.0 {
            let style = (FAMILY, 18)
                .into_font()
                .color(&colour(k))
                .pos(left(VPos::Bottom));
            root.draw_text(name, &style, (x, mid + 1))
                .map_err(|e| e.to_string())?;
            let style = (FAMILY, 15).into_font().color(&grey).pos(left(VPos::Top));
            root.draw_text(&mean, &style, (x, mid + 2))
                .map_err(|e| e.to_string())?;
        } else {
            let px = (strip_px - 3.0).clamp(8.0, 17.0);
            let style = (FAMILY, px)
                .into_font()
                .color(&colour(k))
                .pos(left(VPos::Center));
            let (w, _) = root
                .estimate_text_size(name, &style)
                .map_err(|e| e.to_string())?;
            root.draw_text(name, &style, (x, mid))
                .map_err(|e| e.to_string())?;
            let style = (FAMILY, (px - 3.0).max(8.0))
                .into_font()
                .color(&grey)
                .pos(left(VPos::Center));
            root.draw_text(&mean, &style, (x + w as i32 + 6, mid))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The smallest value of the finer series 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (× 10^k)
/// that is ≥ x: a strip's scale, tight around its peak but still a round number.
fn nice_ceil_fine(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * p >= x * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

/// `c` faded towards white: shade 1 is the colour, 0 is white.
fn mix(c: u8, shade: f64) -> u8 {
    (255.0 - (255.0 - c as f64) * shade).round() as u8
}

/// Three significant digits.
fn fmt_sig(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let d = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.d$}")
}

// ---------------------------------------------------------------------------------------
// Per-population rate distributions
// ---------------------------------------------------------------------------------------

/// Size of `rates.png` (pixels).
pub const RATES_SIZE: (u32, u32) = (1600, 900);
/// The start transient that [`analysis_window`] leaves out of runs longer than twice it
/// (ms).
pub const TRANSIENT_MS: f64 = 500.0;

/// The window (ms) over which `rates.png` measures per-neuron statistics:
/// [500 ms, end] for runs longer than 1 s, leaving out the start transient; otherwise
/// the whole run, [0, end].
pub fn analysis_window(duration_ms: f64) -> (f64, f64) {
    if duration_ms > 2.0 * TRANSIENT_MS {
        (TRANSIENT_MS, duration_ms)
    } else {
        (0.0, duration_ms)
    }
}

/// A box plot's numbers for one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    /// Values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// The smallest value ≥ q1 − 1.5 IQR (the lower whisker's end).
    pub whisker_lo: f64,
    /// The largest value ≤ q3 + 1.5 IQR (the upper whisker's end).
    pub whisker_hi: f64,
    /// Values beyond the whiskers, in increasing order.
    pub outliers: Vec<f64>,
}

impl BoxStats {
    /// The statistics of `values` (any order; NaNs are ignored), None when there are
    /// none. Quartiles interpolate linearly between order statistics (numpy's default);
    /// whiskers end at the most extreme values within 1.5 IQR of the box (Tukey).
    pub fn of(values: &[f64]) -> Option<BoxStats> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let (q1, median, q3) = (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75));
        let iqr = q3 - q1;
        let (fence_lo, fence_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let inside = |x: &&f64| **x >= fence_lo && **x <= fence_hi;
        // The quartiles lie between data values, so the fences always hold some.
        let whisker_lo = *v.iter().find(inside).unwrap_or(&q1);
        let whisker_hi = *v.iter().rev().find(inside).unwrap_or(&q3);
        Some(BoxStats {
            n: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            q1,
            median,
            q3,
            whisker_lo,
            whisker_hi,
            outliers: v
                .iter()
                .copied()
                .filter(|x| *x < fence_lo || *x > fence_hi)
                .collect(),
        })
    }
}

/// The `q`-quantile of sorted, non-empty `v`, interpolating linearly between ranks.
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let i = pos.floor() as usize;
    let next = v[(i + 1).min(v.len() - 1)];
    v[i] + (pos - i as f64) * (next - v[i])
}

/// Per-neuron statistics of one recorded population over an analysis window.
#[derive(Debug, Clone, PartialEq)]
pub struct PopStats {
    /// Population index (config order).
    pub pop: usize,
    /// Each neuron's rate (Hz) in the window, by neuron index; 0 for silent neurons.
    pub rates_hz: Vec<f64>,
    /// CV of the inter-spike intervals (std with 1/n over mean, as `cv_isi` in
    /// summary.json) of each neuron with at least 3 spikes in the window, by index.
    pub cv_isi: Vec<f64>,
}

/// A neuron's spikes in the window, for its rate and ISI statistics.
#[derive(Debug, Clone, Copy, Default)]
struct NeuronSpikes {
    count: u32,
    last_ms: f64,
    isi_sum: f64,
    isi_sq: f64,
}

impl NeuronSpikes {
    fn spike(&mut self, t: f64) {
        if self.count > 0 {
            let isi = t - self.last_ms;
            self.isi_sum += isi;
            self.isi_sq += isi * isi;
        }
        self.count += 1;
        self.last_ms = t;
    }

    fn cv(&self) -> Option<f64> {
        let k = self.count.checked_sub(1).filter(|&k| k >= 2)? as f64;
        let mean = self.isi_sum / k;
        (mean > 0.0).then(|| ((self.isi_sq / k - mean * mean).max(0.0)).sqrt() / mean)
    }
}

/// Reads spikes.csv once into [`PopStats`] for every recorded population (config order)
/// over `window` (ms, both ends included).
pub fn population_stats(dir: &Path, meta: &RunMeta, window: (f64, f64)) -> Result<Vec<PopStats>> {
    let rec: Vec<usize> = (0..meta.populations.len())
        .filter(|&p| meta.populations[p].recorded && meta.populations[p].size > 0)
        .collect();
    let mut neurons: Vec<Vec<NeuronSpikes>> = meta
        .populations
        .iter()
        .map(|p| {
            let n = if p.recorded { p.size } else { 0 };
            vec![NeuronSpikes::default(); n]
        })
        .collect();
    let mut lines = Lines::open(&dir.join("spikes.csv"))?;
    let mut lookup = PopLookup::new(meta);
    while let Some(r) = lines.next_row()? {
        let Some(p) = lookup.get(r.pop) else { continue };
        if r.t < window.0 || r.t > window.1 {
            continue;
        }
        if let Some(n) = neurons[p].get_mut(r.neuron as usize) {
            n.spike(r.t);
        }
    }
    let secs = (window.1 - window.0) / 1000.0;
    Ok(rec
        .into_iter()
        .map(|p| PopStats {
            pop: p,
            rates_hz: neurons[p]
                .iter()
                .map(|n| {
                    if secs > 0.0 {
                        n.count as f64 / secs
                    } else {
                        0.0
                    }
                })
                .collect(),
            cv_isi: neurons[p].iter().filter_map(NeuronSpikes::cv).collect(),
        })
        .collect())
}

/// What [`rates`] drew.
#[derive(Debug, Clone, PartialEq)]
pub struct RatesInfo {
    /// The analysis window (ms).
    pub window_ms: (f64, f64),
    /// Populations drawn (recorded ones).
    pub populations: usize,
}

/// One box of a box-plot panel.
struct BoxItem<'a> {
    name: &'a str,
    colour: RGBColor,
    stats: Option<BoxStats>,
    /// Lines under the name (sample size, silent fraction).
    notes: Vec<String>,
}

/// Draws `out`: box plots of the per-neuron firing rates of each recorded population
/// (config order, raster colours) over [`analysis_window`], and beside them the CV of
/// the neurons' inter-spike intervals.
pub fn rates(dir: &Path, meta: &RunMeta, out: &Path) -> Result<RatesInfo> {
    let window = analysis_window(meta.duration_ms);
    let stats = population_stats(dir, meta, window)?;
    let root = open_area(out, RATES_SIZE)?;
    let recorded: usize = stats.iter().map(|s| s.rates_hz.len()).sum();
    let title = format!(
        "{}: firing rates of {recorded} recorded neurons by population{}",
        meta.name,
        meta.title_suffix()
    );
    let body = root
        .titled(&title, title_style())
        .map_err(|e| plot_err(out, e))?;
    let span = if window.0 > 0.0 {
        format!(
            "over {}–{} ms (start transient left out)",
            fmt_num(window.0),
            fmt_num(window.1)
        )
    } else {
        format!("over the whole run, 0–{} ms", fmt_num(window.1))
    };
    let caption = format!(
        "per neuron {span}; box: quartiles, median; whiskers: within 1.5 IQR; dots: beyond; ×: mean"
    );
    let body = body
        .titled(&caption, caption_style())
        .map_err(|e| plot_err(out, e))?;
    let (w, _) = body.dim_in_pixel();
    let (left, right) = body.split_horizontally((w as f64 * 0.6) as u32);

    let rate_boxes: Vec<BoxItem<'_>> = stats
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let silent = s.rates_hz.iter().filter(|&&r| r == 0.0).count();
            BoxItem {
                name: &meta.populations[s.pop].name,
                colour: colour(k),
                stats: BoxStats::of(&s.rates_hz),
                notes: vec![
                    format!("n = {}", s.rates_hz.len()),
                    format!("{}% silent", percent(silent, s.rates_hz.len())),
                ],
            }
        })
        .collect();
    box_panel(
        &root,
        &left,
        &rate_boxes,
        "firing rate (silent neurons count as 0 Hz)",
        "rate (Hz)",
        None,
    )
    .map_err(|e| plot_err(out, e))?;
    let cv_boxes: Vec<BoxItem<'_>> = stats
        .iter()
        .enumerate()
        .map(|(k, s)| BoxItem {
            name: &meta.populations[s.pop].name,
            colour: colour(k),
            stats: BoxStats::of(&s.cv_isi),
            notes: vec![format!("n = {}", s.cv_isi.len())],
        })
        .collect();
    box_panel(
        &root,
        &right,
        &cv_boxes,
        "CV of inter-spike intervals (neurons with ≥ 3 spikes; grey line: Poisson)",
        "CV ISI",
        Some(1.0),
    )
    .map_err(|e| plot_err(out, e))?;
    root.present().map_err(|e| plot_err(out, e))?;
    Ok(RatesInfo {
        window_ms: window,
        populations: stats.len(),
    })
}

/// `part` of `whole` in percent, rounded, for labels.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "0".into();
    }
    format!("{:.0}", 100.0 * part as f64 / whole as f64)
}

/// Half the width of a box, in slots (one slot per population), and at most in pixels
/// (two populations' boxes would otherwise be slabs).
const BOX_HALF: (f64, f64) = (0.3, 60.0);

/// A panel of box plots, one per item left to right, named underneath; `reference`
/// draws a grey horizontal line at a value (the CV of a Poisson process; the caption
/// says what it is, since a label inside the panel would collide with the data).
fn box_panel(
    root: &Area<'_>,
    area: &Area<'_>,
    items: &[BoxItem<'_>],
    caption: &str,
    ydesc: &str,
    reference: Option<f64>,
) -> DrawResult {
    let n = items.len().max(1);
    let mut ymax = reference.map(|r| r * 1.15).unwrap_or(0.0);
    for s in items.iter().filter_map(|i| i.stats.as_ref()) {
        let hi = s.outliers.last().copied().unwrap_or(s.whisker_hi);
        ymax = ymax.max(hi).max(s.mean);
    }
    let ymax = if ymax > 0.0 { ymax * 1.06 } else { 1.0 };
    let notes = items.iter().map(|i| i.notes.len()).max().unwrap_or(0);
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .margin_right(25)
        .x_label_area_size(32 + 19 * notes as u32)
        .y_label_area_size(80)
        .caption(caption, caption_style())
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..ymax)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(ydesc)
        .y_label_formatter(&|y| fmt_num(*y))
        .light_line_style(WHITE)
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(|e| e.to_string())?;
    if let Some(y) = reference {
        let grey = RGBColor(150, 150, 150);
        polyline(
            chart.plotting_area(),
            [(-0.5, y), (n as f64 - 0.5, y)],
            grey.stroke_width(2),
        )?;
    }
    let (pxr, pyr) = chart.plotting_area().get_pixel_range();
    let slot_px = (pxr.end - pxr.start) as f64 / n as f64;
    let half = BOX_HALF.0.min(BOX_HALF.1 / slot_px);
    for (k, item) in items.iter().enumerate() {
        let x = k as f64;
        if let Some(s) = &item.stats {
            draw_box(&mut chart, x, half, s, item.colour)?;
        }
        // The name (in the box's colour) and notes under the axis, centred on the slot.
        let (px, _) = chart.backend_coord(&(x, 0.0));
        let centred = Pos::new(HPos::Center, VPos::Top);
        let style = (FAMILY, 19).into_font().color(&item.colour).pos(centred);
        root.draw_text(item.name, &style, (px, pyr.end + 8))
            .map_err(|e| e.to_string())?;
        let style = (FAMILY, 15)
            .into_font()
            .color(&RGBColor(90, 90, 90))
            .pos(centred);
        for (j, note) in item.notes.iter().enumerate() {
            root.draw_text(note, &style, (px, pyr.end + 31 + 18 * j as i32))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One box of half-width `half` at slot `x`: whiskers with caps, the interquartile box
/// (light fill, border in `col`), the median as a black bar, outliers as dots spread
/// sideways so that their density shows, and the mean as a ×.
fn draw_box(
    chart: &mut Chart<'_, '_>,
    x: f64,
    half: f64,
    s: &BoxStats,
    col: RGBColor,
) -> DrawResult {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let light = RGBColor(mix(col.0, 0.3), mix(col.1, 0.3), mix(col.2, 0.3));
    let cap = half / 2.0;
    // Outliers first, so that the box stays readable over them.
    let n_out = s.outliers.len().max(1) as f64;
    chart
        .draw_series(s.outliers.iter().enumerate().map(|(i, &y)| {
            // A golden-ratio sequence spreads the dots evenly without randomness.
            let dx = ((i as f64 * 0.618_034).fract() - 0.5) * half * (n_out.min(50.0) / 50.0);
            Circle::new((x + dx, y), 2, col.mix(0.6).filled())
        }))
        .map_err(e)?;
    let whisker = |y0: f64, y1: f64| PathElement::new(vec![(x, y0), (x, y1)], col.stroke_width(2));
    let capline = |y: f64| PathElement::new(vec![(x - cap, y), (x + cap, y)], col.stroke_width(2));
    chart
        .draw_series([
            whisker(s.whisker_lo, s.q1),
            whisker(s.q3, s.whisker_hi),
            capline(s.whisker_lo),
            capline(s.whisker_hi),
        ])
        .map_err(e)?;
    chart
        .draw_series([
            Rectangle::new([(x - half, s.q1), (x + half, s.q3)], light.filled()),
            Rectangle::new([(x - half, s.q1), (x + half, s.q3)], col.stroke_width(2)),
        ])
        .map_err(e)?;
    chart
        .draw_series([PathElement::new(
            vec![(x - half, s.median), (x + half, s.median)],
            BLACK.stroke_width(3),
        )])
        .map_err(e)?;
    chart
        .draw_series([Cross::new((x, s.mean), 7, BLACK.stroke_width(2))])
        .map_err(e)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Voltages
// ---------------------------------------------------------------------------------------

struct Trace {
    pop: usize,
    neuron: u32,
    /// Every sample, until there are more than 2 × ENVELOPE_COLUMNS.
    points: Option<Vec<(f64, f64)>>,
    /// (min, max) per column.
    env: Vec<(f64, f64)>,
    samples: u64,
    spikes: Vec<f64>,
}

/// What [`voltages`] drew.
#[derive(Debug, Clone, PartialEq)]
pub struct VoltageInfo {
    /// Traces in the file.
    pub traces: usize,
    /// Traces drawn (at most [`MAX_TRACES`]).
    pub drawn: usize,
    /// Samples read.
    pub samples: u64,
    /// Whether any trace was drawn as a min/max envelope.
    pub enveloped: bool,
}

/// Draws `out` (the membrane potentials of voltages.csv, spikes of those neurons marked
/// above them) for the run in `dir`.
pub fn voltages(dir: &Path, meta: &RunMeta, out: &Path) -> Result<VoltageInfo> {
    let csv = dir.join("voltages.csv");
    let span = meta.span_ms();
    let mut traces: Vec<Trace> = Vec::new();
    let mut index: HashMap<(usize, u32), usize> = HashMap::new();
    let mut others: HashSet<(usize, u32)> = HashSet::new();
    let mut samples = 0u64;
    let mut lookup = PopLookup::new(meta);
    let mut lines = Lines::open(&csv)?;
    if !lines.voltages {
        return Err(Error::Usage(format!(
            "{}: expected the header time_ms,population,neuron,v_mv",
            csv.display()
        )));
    }
    while let Some(r) = lines.next_row()? {
        let Some(p) = lookup.get(r.pop) else { continue };
        let key = (p, r.neuron);
        let k = match index.get(&key) {
            Some(&k) => k,
            None => {
                if traces.len() >= MAX_TRACES {
                    others.insert(key);
                    continue;
                }
                traces.push(Trace {
                    pop: p,
                    neuron: r.neuron,
                    points: Some(Vec::new()),
                    env: vec![(f64::INFINITY, f64::NEG_INFINITY); ENVELOPE_COLUMNS],
                    samples: 0,
                    spikes: Vec::new(),
                });
                index.insert(key, traces.len() - 1);
                traces.len() - 1
            }
        };
        if !r.v.is_finite() {
            continue;
        }
        let tr = &mut traces[k];
        tr.samples += 1;
        samples += 1;
        let c =
            ((r.t / span * ENVELOPE_COLUMNS as f64).max(0.0) as usize).min(ENVELOPE_COLUMNS - 1);
        let e = &mut tr.env[c];
        e.0 = e.0.min(r.v);
        e.1 = e.1.max(r.v);
        if let Some(pts) = &mut tr.points {
            if pts.len() < 2 * ENVELOPE_COLUMNS {
                pts.push((r.t, r.v));
            } else {
                tr.points = None;
            }
        }
    }
    // Spikes of the drawn neurons, as marks above the traces.
    let spikes_csv = dir.join("spikes.csv");
    if spikes_csv.exists() && !traces.is_empty() {
        let mut lines = Lines::open(&spikes_csv)?;
        let mut lookup = PopLookup::new(meta);
        while let Some(r) = lines.next_row()? {
            let Some(p) = lookup.get(r.pop) else { continue };
            if let Some(&k) = index.get(&(p, r.neuron))
                && traces[k].spikes.len() <= MAX_MARKS
            {
                traces[k].spikes.push(r.t);
            }
        }
    }

    let enveloped = traces.iter().any(|t| t.points.is_none());
    // Marks are drawn for traces with few enough spikes to tell apart.
    let marked = |t: &Trace| !t.spikes.is_empty() && t.spikes.len() <= MAX_MARKS;
    let any_marks = traces.iter().any(marked);
    let unmarked = traces
        .iter()
        .any(|t| !t.spikes.is_empty() && t.spikes.len() > MAX_MARKS);

    let root = open_area(out, VOLTAGE_SIZE)?;
    let total = traces.len() + others.len();
    let title = format!(
        "{}: membrane potential of {} recorded neuron{}{}",
        meta.name,
        total,
        if total == 1 { "" } else { "s" },
        meta.title_suffix()
    );
    let body = root
        .titled(&title, title_style())
        .map_err(|e| plot_err(out, e))?;
    let mut notes = Vec::new();
    if !others.is_empty() {
        notes.push(format!(
            "showing the first {} of {total} traces",
            traces.len()
        ));
    }
    if enveloped {
        notes.push(format!(
            "long traces drawn as their min–max range per {} ms",
            fmt_sig(span / ENVELOPE_COLUMNS as f64)
        ));
    }
    if any_marks {
        notes.push("▲ marks each spike, in the neuron's colour".into());
    }
    if unmarked {
        notes.push(format!(
            "no marks for traces with more than {MAX_MARKS} spikes"
        ));
    }
    let caption = if notes.is_empty() {
        format!("{samples} samples")
    } else {
        format!("{samples} samples; {}", notes.join("; "))
    };
    let body = body
        .titled(&caption, caption_style())
        .map_err(|e| plot_err(out, e))?;
    // Short traces are overlaid on one axis; long (enveloped) ones, whose bands would
    // hide each other, get a panel each.
    let panels: Vec<Vec<usize>> = if enveloped && traces.len() > 1 {
        (0..traces.len()).map(|k| vec![k]).collect()
    } else {
        vec![(0..traces.len()).collect()]
    };
    let areas = body.split_evenly((panels.len(), 1));
    let (tdesc, tdiv) = time_axis(span);
    for (pi, (members, area)) in panels.iter().zip(&areas).enumerate() {
        let last = pi + 1 == panels.len();
        let single = panels.len() > 1;
        let (mut vmin, mut vmax) = (f64::INFINITY, f64::NEG_INFINITY);
        for &k in members {
            for &(a, b) in &traces[k].env {
                if a.is_finite() {
                    vmin = vmin.min(a);
                    vmax = vmax.max(b);
                }
            }
        }
        if !vmin.is_finite() {
            (vmin, vmax) = (-80.0, -40.0);
        }
        let vspan = (vmax - vmin).max(1.0);
        let marks_here = members.iter().any(|&k| marked(&traces[k]));
        let y_lo = vmin - 0.06 * vspan;
        let headroom = match (marks_here, single) {
            (true, _) => 0.16,
            (false, true) => 0.2, // room for the trace's name
            (false, false) => 0.06,
        };
        let y_hi = vmax + headroom * vspan;
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .margin_right(30)
            .x_label_area_size(if last { 50 } else { 24 })
            .y_label_area_size(95)
            .build_cartesian_2d(0f64..span, y_lo..y_hi)
            .map_err(|e| plot_err(out, e))?;
        let ydesc = if single {
            "V (mV)"
        } else {
            "membrane potential V (mV)"
        };
        chart
            .configure_mesh()
            .x_desc(if last { tdesc } else { "" })
            .y_desc(ydesc)
            .x_label_formatter(&|x| fmt_num(*x / tdiv))
            .y_label_formatter(&|y| fmt_num(*y))
            .y_labels(if single { 4 } else { 10 })
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .draw()
            .map_err(|e| plot_err(out, e))?;
        let ntr = members.len().max(1) as f64;
        for (j, &k) in members.iter().enumerate() {
            let t = &traces[k];
            let col = colour(k);
            let pts: Vec<(f64, f64)> = match &t.points {
                Some(p) => p.clone(),
                None => envelope_path(&t.env, span),
            };
            let pm = &meta.populations[t.pop];
            let label = if pm.size == 1 {
                pm.name.clone()
            } else {
                format!("{} #{}", pm.name, t.neuron)
            };
            polyline(chart.plotting_area(), pts, col.stroke_width(2))
                .map_err(|e| plot_err(out, e))?;
            if single {
                let (pxr, pyr) = chart.plotting_area().get_pixel_range();
                root.draw_text(
                    &label,
                    &(FAMILY, 18).into_font().color(&col),
                    (pxr.start + 8, pyr.start + 4),
                )
                .map_err(|e| plot_err(out, e))?;
            } else {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                    .map_err(|e| plot_err(out, e))?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3))
                    });
            }
            if marked(t) {
                // Stagger the rows of marks so that traces' spikes stay apart.
                let y = vmax + (0.04 + 0.1 * (j as f64 + 0.5) / ntr) * vspan;
                chart
                    .draw_series(
                        t.spikes
                            .iter()
                            .map(|&s| TriangleMarker::new((s, y), 7, col.filled())),
                    )
                    .map_err(|e| plot_err(out, e))?;
            }
        }
        if !single && !members.is_empty() {
            // The legend goes in the corner where the traces leave most room.
            let (_, pyr) = chart.plotting_area().get_pixel_range();
            let box_w = 0.25 * span;
            let box_h = ((members.len() as f64 * 22.0 + 24.0)
                / (pyr.end - pyr.start).max(1) as f64)
                * (y_hi - y_lo);
            let corners = [
                (SeriesLabelPosition::LowerRight, span - box_w, y_lo),
                (SeriesLabelPosition::UpperRight, span - box_w, y_hi - box_h),
                (SeriesLabelPosition::LowerLeft, 0.0, y_lo),
                (SeriesLabelPosition::UpperLeft, 0.0, y_hi - box_h),
            ];
            let w = span / ENVELOPE_COLUMNS as f64;
            let crowd = |x0: f64, y0: f64| -> usize {
                let mut n = 0;
                for &k in members {
                    let t = &traces[k];
                    for (c, &(a, b)) in t.env.iter().enumerate() {
                        let x = (c as f64 + 0.5) * w;
                        if a.is_finite() && x >= x0 && x <= x0 + box_w && b >= y0 && a <= y0 + box_h
                        {
                            n += 1;
                        }
                    }
                    if marked(t) && y0 + box_h > vmax {
                        n += t
                            .spikes
                            .iter()
                            .filter(|&&sp| sp >= x0 && sp <= x0 + box_w)
                            .count();
                    }
                }
                n
            };
            let best = corners
                .into_iter()
                .min_by_key(|&(_, x0, y0)| crowd(x0, y0))
                .map(|c| c.0)
                .unwrap_or(SeriesLabelPosition::LowerRight);
            chart
                .configure_series_labels()
                .position(best)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(150, 150, 150))
                .label_font(label_style())
                .draw()
                .map_err(|e| plot_err(out, e))?;
        }
    }
    root.present().map_err(|e| plot_err(out, e))?;
    Ok(VoltageInfo {
        traces: total,
        drawn: traces.len(),
        samples,
        enveloped,
    })
}

/// A min–max envelope as one zig-zag path: down and up each column in turn.
fn envelope_path(env: &[(f64, f64)], span: f64) -> Vec<(f64, f64)> {
    let w = span / env.len() as f64;
    let mut v = Vec::with_capacity(2 * env.len());
    for (c, &(a, b)) in env.iter().enumerate() {
        if !a.is_finite() {
            continue;
        }
        let x = (c as f64 + 0.5) * w;
        if c % 2 == 0 {
            v.push((x, a));
            v.push((x, b));
        } else {
            v.push((x, b));
            v.push((x, a));
        }
    }
    v
}

/// The time axis: its description and the divisor from ms (seconds for runs ≥ 10 s).
fn time_axis(span_ms: f64) -> (&'static str, f64) {
    if span_ms >= 10_000.0 {
        ("time (s)", 1000.0)
    } else {
        ("time (ms)", 1.0)
    }
}

// ---------------------------------------------------------------------------------------
// f–I curve
// ---------------------------------------------------------------------------------------

/// What [`fi`] drew.
#[derive(Debug, Clone, PartialEq)]
pub struct FiInfo {
    /// Neurons plotted.
    pub neurons: usize,
    /// Largest |simulated − closed form| over the neurons (Hz).
    pub max_abs_dev_hz: f64,
    /// Largest relative deviation over neurons that fire in the closed form.
    pub max_rel_dev: f64,
}

/// The rate of each neuron as measured from spikes.csv: (spikes − 1)/(last − first) for
/// neurons with two or more spikes (the steady-state rate), spikes/duration otherwise.
pub fn measured_rates(dir: &Path, meta: &RunMeta, neurons: &[FiNeuron]) -> Result<Vec<f64>> {
    let mut idx: HashMap<(usize, u32), usize> = HashMap::new();
    for (k, n) in neurons.iter().enumerate() {
        idx.insert((n.pop, n.neuron), k);
    }
    let mut first = vec![f64::NAN; neurons.len()];
    let mut last = vec![f64::NAN; neurons.len()];
    let mut count = vec![0u64; neurons.len()];
    let csv = dir.join("spikes.csv");
    let mut lines = Lines::open(&csv)?;
    let mut lookup = PopLookup::new(meta);
    while let Some(r) = lines.next_row()? {
        let Some(p) = lookup.get(r.pop) else { continue };
        if let Some(&k) = idx.get(&(p, r.neuron)) {
            if count[k] == 0 {
                first[k] = r.t;
            }
            last[k] = r.t;
            count[k] += 1;
        }
    }
    let secs = meta.duration_ms / 1000.0;
    Ok((0..neurons.len())
        .map(|k| {
            if count[k] >= 2 && last[k] > first[k] {
                (count[k] - 1) as f64 * 1000.0 / (last[k] - first[k])
            } else if secs > 0.0 {
                count[k] as f64 / secs
            } else {
                0.0
            }
        })
        .collect())
}

/// Draws `out`: simulated firing rate against injected current for `neurons` (of the run
/// in `dir`), with the closed-form f–I curve overlaid.
pub fn fi(dir: &Path, meta: &RunMeta, neurons: &[FiNeuron], out: &Path) -> Result<FiInfo> {
    if neurons.is_empty() {
        return Err(Error::Usage(
            "--fi: the run has no recorded LIF neurons to plot".into(),
        ));
    }
    let rates = measured_rates(dir, meta, neurons)?;
    let (mut imin, mut imax) = (f64::INFINITY, f64::NEG_INFINITY);
    for n in neurons {
        imin = imin.min(n.i_e_pa);
        imax = imax.max(n.i_e_pa);
    }
    if imax <= imin {
        imax = imin + 1.0;
    }
    let mut max_abs: f64 = 0.0;
    let mut max_rel: f64 = 0.0;
    let mut ymax: f64 = 1.0;
    for (n, &r) in neurons.iter().zip(&rates) {
        let c = n.rate_hz(n.i_e_pa);
        max_abs = max_abs.max((r - c).abs());
        if c > 0.0 {
            max_rel = max_rel.max((r - c).abs() / c);
        }
        ymax = ymax.max(r).max(c);
    }
    let root = open_area(out, FI_SIZE)?;
    let title = format!(
        "{}: firing rate against injected current (f–I curve)",
        meta.name
    );
    let body = root
        .titled(&title, title_style())
        .map_err(|e| plot_err(out, e))?;
    let n0 = neurons[0];
    let caption = format!(
        "LIF: τ_m = {} ms, R_m = {} MΩ, V_th − E_L = {} mV, V_reset − E_L = {} mV, t_ref = {} ms{}",
        fmt_num(n0.tau_m_ms),
        fmt_num(n0.r_gohm * 1000.0),
        fmt_num(n0.theta_mv),
        fmt_num(n0.reset_mv),
        fmt_num(n0.t_ref_ms),
        match meta.dt_ms {
            Some(dt) => format!(", dt = {} ms", fmt_num(dt)),
            None => String::new(),
        }
    );
    let mut chart = ChartBuilder::on(&body)
        .margin(15)
        .margin_right(40)
        .x_label_area_size(55)
        .y_label_area_size(95)
        .caption(&caption, caption_style())
        .build_cartesian_2d(imin..imax, 0f64..ymax * 1.08)
        .map_err(|e| plot_err(out, e))?;
    chart
        .configure_mesh()
        .x_desc("injected current I_e (pA)")
        .y_desc("firing rate (Hz)")
        .x_label_formatter(&|x| fmt_num(*x))
        .y_label_formatter(&|y| fmt_num(*y))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(|e| plot_err(out, e))?;
    let pops: Vec<usize> = {
        let mut v: Vec<usize> = neurons.iter().map(|n| n.pop).collect();
        v.dedup();
        v
    };
    for (k, &p) in pops.iter().enumerate() {
        let col = colour(k);
        let members: Vec<(FiNeuron, f64)> = neurons
            .iter()
            .zip(&rates)
            .filter(|(n, _)| n.pop == p)
            .map(|(n, &r)| (*n, r))
            .collect();
        let first = members[0].0;
        let shared = members.iter().all(|(n, _)| n.same_cell(&first));
        if shared {
            let (lo, hi) = members
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, (n, _)| {
                    (a.0.min(n.i_e_pa), a.1.max(n.i_e_pa))
                });
            // Dense near the rheobase, where the curve rises steeply.
            let rheo = first.theta_mv / first.r_gohm;
            let mut xs: Vec<f64> = (0..=2000)
                .map(|j| lo + (hi - lo) * j as f64 / 2000.0)
                .collect();
            if rheo > lo && rheo < hi {
                xs.extend((0..=400).map(|j| rheo * (1.0 + 1e-6 * 1.04f64.powi(j))));
                xs.push(rheo);
            }
            xs.retain(|x| *x >= lo && *x <= hi);
            xs.sort_by(f64::total_cmp);
            polyline(
                chart.plotting_area(),
                xs.into_iter().map(|x| (x, first.rate_hz(x))),
                BLACK.stroke_width(2),
            )
            .map_err(|e| plot_err(out, e))?;
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(|e| plot_err(out, e))?
                .label(
                    "closed form: 1/(t_ref + τ_m ln((V∞ − V_reset)/(V∞ − V_th))), V∞ = E_L + R_m I_e",
                )
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(3))
                });
        } else {
            chart
                .draw_series(members.iter().map(|(n, _)| {
                    Cross::new((n.i_e_pa, n.rate_hz(n.i_e_pa)), 6, BLACK.stroke_width(2))
                }))
                .map_err(|e| plot_err(out, e))?
                .label("closed form (each neuron's parameters)")
                .legend(|(x, y)| Cross::new((x + 12, y), 6, BLACK.stroke_width(2)));
        }
        chart
            .draw_series(
                members
                    .iter()
                    .map(|(n, r)| Circle::new((n.i_e_pa, *r), 5, col.filled())),
            )
            .map_err(|e| plot_err(out, e))?
            .label(format!(
                "simulated: {} ({} neurons; max |Δ| = {} Hz)",
                meta.populations[p].name,
                members.len(),
                fmt_sig(
                    members
                        .iter()
                        .map(|(n, r)| (r - n.rate_hz(n.i_e_pa)).abs())
                        .fold(0.0, f64::max)
                )
            ))
            .legend(move |(x, y)| Circle::new((x + 12, y), 5, col.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(150, 150, 150))
        .label_font(label_style())
        .draw()
        .map_err(|e| plot_err(out, e))?;
    root.present().map_err(|e| plot_err(out, e))?;
    Ok(FiInfo {
        neurons: neurons.len(),
        max_abs_dev_hz: max_abs,
        max_rel_dev: max_rel,
    })
}

// ---------------------------------------------------------------------------------------
// A whole folder
// ---------------------------------------------------------------------------------------

/// One picture written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// What it shows, in a few words.
    pub note: String,
    /// Seconds it took.
    pub seconds: f64,
}

/// Draws `raster.png` and `rates.png` (when spikes.csv has a recorded population) and
/// `voltages.png` (when there is a voltages.csv) into `dir`; removes stale ones.
pub fn plot_dir(dir: &Path) -> Result<Vec<Written>> {
    let meta = RunMeta::load(dir)?;
    plot_dir_with(dir, &meta)
}

/// [`plot_dir`] with the run's description already at hand.
pub fn plot_dir_with(dir: &Path, meta: &RunMeta) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    let rp = dir.join("raster.png");
    let vp = dir.join("voltages.png");
    let bp = dir.join("rates.png");
    for stale in [&rp, &vp, &bp] {
        let _ = std::fs::remove_file(stale);
    }
    if dir.join("spikes.csv").exists() && meta.populations.iter().any(|p| p.recorded) {
        let t = std::time::Instant::now();
        let info = raster(dir, meta, &rp)?;
        written.push(Written {
            path: rp,
            note: format!("{} spikes", info.spikes),
            seconds: t.elapsed().as_secs_f64(),
        });
        let t = std::time::Instant::now();
        let info = rates(dir, meta, &bp)?;
        written.push(Written {
            path: bp,
            note: format!(
                "{} population{}, {}–{} ms",
                info.populations,
                if info.populations == 1 { "" } else { "s" },
                fmt_num(info.window_ms.0),
                fmt_num(info.window_ms.1)
            ),
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    if dir.join("voltages.csv").exists() {
        let t = std::time::Instant::now();
        let info = voltages(dir, meta, &vp)?;
        written.push(Written {
            path: vp,
            note: format!("{} of {} traces", info.drawn, info.traces),
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_values() {
        assert_eq!(nice_ceil(3.0), 5.0);
        assert_eq!(nice_ceil(5.0), 5.0);
        assert_eq!(nice_ceil(0.07), 0.1);
        assert_eq!(nice_ceil(1.5), 2.0);
        assert_eq!(nice_ceil(3000.0), 5000.0);
    }

    #[test]
    fn numbers_print_plainly() {
        assert_eq!(fmt_num(1000.0), "1000");
        assert_eq!(fmt_num(0.1), "0.1");
        assert_eq!(fmt_num(0.30000000000000004), "0.3");
        assert_eq!(fmt_sig(5.91234), "5.91");
        assert_eq!(fmt_sig(123.4), "123");
    }

    #[test]
    fn rows_parse() {
        let r = parse_row(b"0.3,exc,17", false).unwrap();
        assert_eq!((r.0, r.1, r.2), (0.3, 4..7, 17));
        let r = parse_row(b"1.5,inh,2,-65.25", true).unwrap();
        assert_eq!(r.3, -65.25);
        assert!(parse_row(b"1.5,inh", false).is_none());
        assert!(parse_row(b"1.5,inh,x", false).is_none());
        assert!(parse_row(b"1.5,inh,2,3", false).is_none());
    }

    #[test]
    fn closed_form_rate() {
        // τ = 10 ms, θ = 15 mV, reset = 0: R·I = 16 mV → T = 10 ln 16 ≈ 27.73 ms.
        let n = FiNeuron {
            pop: 0,
            neuron: 0,
            i_e_pa: 400.0,
            r_gohm: 0.04,
            tau_m_ms: 10.0,
            theta_mv: 15.0,
            reset_mv: 0.0,
            t_ref_ms: 0.0,
        };
        assert!((n.rate_hz(400.0) - 1000.0 / (10.0 * 16f64.ln())).abs() < 1e-9);
        assert_eq!(n.rate_hz(300.0), 0.0);
        assert_eq!(n.rate_hz(375.0), 0.0);
    }
}
