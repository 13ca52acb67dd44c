//! Pictures of a run, drawn from an output folder's CSVs: `raster.png` (spikes of every
//! recorded population with a population-rate panel below), `voltages.png` (recorded
//! membrane potentials) and, for f–I sweeps, `fi.png` (rate against injected current with
//! the closed form of the LIF spec, section 6, overlaid).
//!
//! Plots are drawn after a run (and again by `galvani plot DIR`) by reading the CSVs once,
//! line by line. Memory is bounded by the picture, not by the run: the raster is
//! accumulated into a grid of spike counts per pixel (a raster of 10⁶ spikes is one pass
//! over the file, never 10⁶ drawn markers), the rate panel into fixed time bins, and each
//! voltage trace into a min/max envelope of at most [`ENVELOPE_COLUMNS`] columns. Each
//! picture says when it was rasterised or enveloped.
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

use crate::error::{Error, Result};

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

/// A number as a person writes it: no trailing zeros, at most 4 significant decimals.
pub fn fmt_num(x: f64) -> String {
    if x == x.round() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

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
pub fn raster(dir: &Path, meta: &RunMeta, out: &Path) -> Result<RasterInfo> {
    let csv = dir.join("spikes.csv");
    let rec: Vec<usize> = (0..meta.populations.len())
        .filter(|&p| meta.populations[p].recorded && meta.populations[p].size > 0)
        .collect();
    // Row offsets of recorded populations, stacked bottom-up in config order.
    let mut row_of = vec![usize::MAX; meta.populations.len()];
    let mut rows = 0usize;
    for &p in &rec {
        row_of[p] = rows;
        rows += meta.populations[p].size;
    }
    let span = meta.span_ms();
    let (tdesc, tdiv) = time_axis(span);
    let rows_f = rows.max(1) as f64;

    let root = open_area(out, RASTER_SIZE)?;
    let recorded_neurons: usize = rows;
    let title = format!(
        "{}: spikes of {} recorded neuron{} over {} ms{}",
        meta.name,
        recorded_neurons,
        if recorded_neurons == 1 { "" } else { "s" },
        fmt_num(meta.duration_ms),
        meta.title_suffix()
    );
    let body = root
        .titled(&title, title_style())
        .map_err(|e| plot_err(out, e))?;
    let (_, body_h) = body.dim_in_pixel();
    let (top, bottom) = body.split_vertically((body_h as f64 * 0.68) as u32);

    let chart = ChartBuilder::on(&top)
        .margin(10)
        .margin_right(150)
        .x_label_area_size(45)
        .y_label_area_size(95)
        .caption("placeholder", caption_style())
        .build_cartesian_2d(0f64..span, 0f64..rows_f)
        .map_err(|e| plot_err(out, e))?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let gw = (xr.end - xr.start).max(1) as usize;
    let gh = (yr.end - yr.start).max(1) as usize;
    let cells = rows.clamp(1, gh);
    let mut grid = vec![0u32; gw * cells];

    // Rate bins: about 200 over the run, never narrower than a step.
    let bin_ms = nice_ceil((span / 200.0).max(meta.dt_ms.unwrap_or(0.0)));
    let nbins = ((span / bin_ms).ceil() as usize).max(1);
    let mut bins = vec![vec![0u32; nbins]; meta.populations.len()];
    let mut per_pop = vec![0u64; meta.populations.len()];

    let mut spikes = 0u64;
    if csv.exists() {
        let mut lines = Lines::open(&csv)?;
        let mut lookup = PopLookup::new(meta);
        while let Some(r) = lines.next_row()? {
            let Some(p) = lookup.get(r.pop) else { continue };
            let base = row_of[p];
            if base == usize::MAX || r.neuron as usize >= meta.populations[p].size {
                continue;
            }
            if !(r.t >= 0.0 && r.t <= span * (1.0 + 1e-9)) {
                continue;
            }
            let row = base + r.neuron as usize;
            let cell = (row as u128 * cells as u128 / rows as u128) as usize;
            let x = ((r.t / span * gw as f64) as usize).min(gw - 1);
            grid[cell * gw + x] = grid[cell * gw + x].saturating_add(1);
            let b = ((r.t / bin_ms) as usize).min(nbins - 1);
            bins[p][b] += 1;
            per_pop[p] += 1;
            spikes += 1;
        }
    }

    // The caption says how the picture was made.
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
    let caption = format!(
        "rasterised: {spikes} spike{} counted into a {gw} × {cells} pixel grid ({resolution}; darker = more spikes)",
        if spikes == 1 { "" } else { "s" }
    );
    // Rebuild the chart with the real caption (same geometry: the caption height is the same).
    drop(chart);
    top.fill(&WHITE).map_err(|e| plot_err(out, e))?;
    let mut chart = ChartBuilder::on(&top)
        .margin(10)
        .margin_right(150)
        .x_label_area_size(45)
        .y_label_area_size(95)
        .caption(&caption, caption_style())
        .build_cartesian_2d(0f64..span, 0f64..rows_f)
        .map_err(|e| plot_err(out, e))?;
    debug_assert_eq!(
        chart.plotting_area().get_pixel_range(),
        (xr.clone(), yr.clone())
    );
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(tdesc)
        .y_desc("neuron (populations stacked)")
        .x_label_formatter(&|x| fmt_num(*x / tdiv))
        .y_label_formatter(&|y| {
            if y.fract() == 0.0 {
                fmt_num(*y)
            } else {
                String::new()
            }
        })
        .y_labels(if rows < 10 { rows + 1 } else { 10 })
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(|e| plot_err(out, e))?;

    // Paint the grid: cell → population colour, shade by count (log scale against the
    // population's 95th percentile of non-empty cells).
    let pop_of_row = |row: usize| -> usize {
        let k = rec.partition_point(|&p| row_of[p] + meta.populations[p].size <= row);
        rec[k.min(rec.len() - 1)]
    };
    if !rec.is_empty() {
        let cell_pop: Vec<usize> = (0..cells)
            .map(|c| pop_of_row((c as u128 * rows as u128 / cells as u128) as usize))
            .collect();
        let mut q95 = vec![1u32; meta.populations.len()];
        for &p in &rec {
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
        let band = gh as f64 / cells as f64;
        let (inset, wide) = if band >= 4.0 {
            ((band * 0.15).floor() as i32, true)
        } else {
            (0, false)
        };
        for c in 0..cells {
            let p = cell_pop[c];
            let col = colour(rec.iter().position(|&q| q == p).unwrap_or(0));
            // Rows grow upwards: cell 0 at the bottom.
            let y_hi = yr.end - (c as f64 * band).round() as i32; // exclusive
            let y_lo = yr.end - ((c + 1) as f64 * band).round() as i32;
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
                    root.draw_pixel((px, y), &rgb)
                        .map_err(|e| plot_err(out, e))?;
                    if wide && px + 1 < xr.end {
                        root.draw_pixel((px + 1, y), &rgb)
                            .map_err(|e| plot_err(out, e))?;
                    }
                }
            }
        }
        // Population names at the right, separators between populations.
        for (k, &p) in rec.iter().enumerate() {
            let pm = &meta.populations[p];
            let lo = row_of[p] as f64 / rows_f;
            let hi = (row_of[p] + pm.size) as f64 / rows_f;
            let ymid = yr.end - (((lo + hi) / 2.0) * gh as f64) as i32;
            let style = (FAMILY, 20).into_font().color(&colour(k));
            root.draw_text(&pm.name, &style, (xr.end + 10, ymid - 10))
                .map_err(|e| plot_err(out, e))?;
            let count = format!("{} neuron{}", pm.size, if pm.size == 1 { "" } else { "s" });
            root.draw_text(
                &count,
                &(FAMILY, 15).into_font().color(&RGBColor(90, 90, 90)),
                (xr.end + 10, ymid + 12),
            )
            .map_err(|e| plot_err(out, e))?;
            if k > 0 {
                let y = yr.end - (lo * gh as f64) as i32;
                root.draw(&PathElement::new(
                    vec![(xr.start, y), (xr.end, y)],
                    RGBColor(170, 170, 170),
                ))
                .map_err(|e| plot_err(out, e))?;
            }
        }
    }

    // Rate panel.
    let rates: Vec<Vec<f64>> = (0..meta.populations.len())
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
        .collect();
    let rmax = rec
        .iter()
        .flat_map(|&p| rates[p].iter().copied())
        .fold(0.0f64, f64::max);
    let ymax = if rmax > 0.0 { rmax * 1.12 } else { 1.0 };
    let mut rc = ChartBuilder::on(&bottom)
        .margin(10)
        .margin_right(150)
        .x_label_area_size(45)
        .y_label_area_size(95)
        .caption(
            format!(
                "population rate (spikes per neuron per second, bins of {} ms)",
                fmt_num(bin_ms)
            ),
            caption_style(),
        )
        .build_cartesian_2d(0f64..span, 0f64..ymax)
        .map_err(|e| plot_err(out, e))?;
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
    let secs = meta.duration_ms / 1000.0;
    for (k, &p) in rec.iter().enumerate() {
        let col = colour(k);
        let mut pts = Vec::with_capacity(2 * nbins);
        for (b, &r) in rates[p].iter().enumerate() {
            pts.push((b as f64 * bin_ms, r));
            pts.push((((b + 1) as f64 * bin_ms).min(span), r));
        }
        let mean = if secs > 0.0 {
            per_pop[p] as f64 / meta.populations[p].size as f64 / secs
        } else {
            0.0
        };
        polyline(rc.plotting_area(), pts, col.stroke_width(2)).map_err(|e| plot_err(out, e))?;
        // Legend in the right margin, clear of the data: name, then the mean rate.
        let (pxr, pyr) = rc.plotting_area().get_pixel_range();
        let y = pyr.start + 10 + 48 * k as i32;
        root.draw(&PathElement::new(
            vec![(pxr.end + 10, y + 10), (pxr.end + 34, y + 10)],
            col.stroke_width(3),
        ))
        .map_err(|e| plot_err(out, e))?;
        root.draw_text(
            &meta.populations[p].name,
            &(FAMILY, 18).into_font().color(&col),
            (pxr.end + 40, y),
        )
        .map_err(|e| plot_err(out, e))?;
        root.draw_text(
            &format!("mean {} Hz", fmt_sig(mean)),
            &(FAMILY, 15).into_font().color(&RGBColor(90, 90, 90)),
            (pxr.end + 40, y + 21),
        )
        .map_err(|e| plot_err(out, e))?;
    }
    root.present().map_err(|e| plot_err(out, e))?;
    Ok(RasterInfo {
        spikes,
        per_pop,
        grid: (gw, cells),
        bin_ms,
    })
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

/// One LIF neuron of an f–I sweep: what the closed form needs (spec section 6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiNeuron {
    /// Population index.
    pub pop: usize,
    /// Population-local index.
    pub neuron: u32,
    /// Injected current I_e (pA).
    pub i_e_pa: f64,
    /// Membrane resistance R_m = τ_m/C_m (GΩ, so that R_m·I in pA is in mV).
    pub r_gohm: f64,
    /// τ_m (ms).
    pub tau_m_ms: f64,
    /// V_th − E_L (mV).
    pub theta_mv: f64,
    /// V_reset − E_L (mV).
    pub reset_mv: f64,
    /// Refractory period (ms), as simulated (whole steps).
    pub t_ref_ms: f64,
}

impl FiNeuron {
    /// The closed-form rate (Hz) at current `i_pa`: 0 when E_L + R·I < V_th, else
    /// 1/(t_ref + T) with T = τ_m ln((V̄ − V_reset)/(V̄ − V_th)), V̄ = E_L + R·I.
    pub fn rate_hz(&self, i_pa: f64) -> f64 {
        let ri = self.r_gohm * i_pa;
        // At the rheobase itself T is infinite; rounding must not make it finite.
        if ri <= self.theta_mv * (1.0 + 1e-9) {
            return 0.0;
        }
        let t = self.tau_m_ms * ((ri - self.reset_mv) / (ri - self.theta_mv)).ln();
        1000.0 / (self.t_ref_ms + t)
    }

    fn same_cell(&self, o: &FiNeuron) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        close(self.r_gohm, o.r_gohm)
            && close(self.tau_m_ms, o.tau_m_ms)
            && close(self.theta_mv, o.theta_mv)
            && close(self.reset_mv, o.reset_mv)
            && close(self.t_ref_ms, o.t_ref_ms)
    }
}

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

/// Draws `raster.png` (when spikes.csv has a recorded population) and `voltages.png`
/// (when there is a voltages.csv) into `dir`; removes stale ones.
pub fn plot_dir(dir: &Path) -> Result<Vec<Written>> {
    let meta = RunMeta::load(dir)?;
    plot_dir_with(dir, &meta)
}

/// [`plot_dir`] with the run's description already at hand.
pub fn plot_dir_with(dir: &Path, meta: &RunMeta) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    let rp = dir.join("raster.png");
    let vp = dir.join("voltages.png");
    let _ = std::fs::remove_file(&rp);
    let _ = std::fs::remove_file(&vp);
    if dir.join("spikes.csv").exists() && meta.populations.iter().any(|p| p.recorded) {
        let t = std::time::Instant::now();
        let info = raster(dir, meta, &rp)?;
        written.push(Written {
            path: rp,
            note: format!("{} spikes", info.spikes),
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
