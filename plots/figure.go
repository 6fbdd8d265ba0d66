package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default panel size: one column of a two-column paper.
var (
	panelWidth  = 3.3 * vg.Inch
	panelHeight = 2.3 * vg.Inch
	maxWidth    = 7.0 * vg.Inch // the text width of a two-column paper
)

// figure is one or more panels sharing a title and a legend. The legend is
// drawn in a band above the panels, outside the data.
type figure struct {
	title  string
	hows   []string     // how the numbers were aggregated, one subtitle line each
	panels []*plot.Plot // laid out row by row, cols per row
	cols   int
	legend []legendEntry
	shareX bool // give every panel the same x range
	shareY bool // give every panel the same y range
	data   []seriesData
}

// seriesData records the numbers behind one drawn series, so tests (and
// readers of the code) can check what a figure shows.
type seriesData struct {
	panel  int
	label  string
	x, y   []float64
	lo, hi []float64 // the interval around y; equal to y without one
}

func (f *figure) record(label string, x, y, lo, hi []float64) {
	f.data = append(f.data, seriesData{panel: len(f.panels), label: label, x: x, y: y, lo: lo, hi: hi})
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// how records how a figure's numbers were aggregated, once.
func (f *figure) how(s string) {
	if s != "" && !slices.Contains(f.hows, s) {
		f.hows = append(f.hows, s)
	}
}

func (f *figure) addLegend(label string, thumbs ...plot.Thumbnailer) {
	f.legend = append(f.legend, legendEntry{label, thumbs})
}

func (f *figure) grid() (rows, cols int) {
	cols = f.cols
	if cols <= 0 {
		cols = min(len(f.panels), 3)
	}
	cols = max(cols, 1)
	return (len(f.panels) + cols - 1) / cols, cols
}

// size returns the figure size: the spec's where given, else one column
// width per panel column (at most the text width) and one panel height per
// row plus the legend.
func (f *figure) size(spec *Spec) (w, h vg.Length, err error) {
	rows, cols := f.grid()
	w = min(vg.Length(cols)*panelWidth, maxWidth)
	if spec.Width != "" {
		if w, err = ParseLength(spec.Width); err != nil {
			return 0, 0, err
		}
	}
	h = vg.Length(rows)*panelHeight + f.headerHeight(w)
	if spec.Height != "" {
		if h, err = ParseLength(spec.Height); err != nil {
			return 0, 0, err
		}
	}
	return w, h, nil
}

var (
	figTitleStyle   = text.Style{Color: color.Black, Font: font.From(textFont, titleSize), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	panelTitleStyle = text.Style{Color: color.Black, Font: font.From(textFont, labelSize), XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: plot.DefaultTextHandler}
	subtitleStyle   = text.Style{Color: color.Gray{Y: 0x44}, Font: font.From(textFont, legendSize), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	legendStyle     = text.Style{Color: color.Black, Font: font.From(textFont, legendSize), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	thumbW          = vg.Points(16)
	legendGap       = vg.Points(3)  // between thumbnail and text
	legendSpace     = vg.Points(10) // between entries
	legendRowH      = vg.Points(10)
	figPad          = vg.Points(4)
)

func entryWidth(e legendEntry) vg.Length {
	return thumbW + legendGap + legendStyle.Width(e.label)
}

// legendRows lays the legend entries out in one row if they fit, else in a
// grid of equal columns as wide as the widest entry.
func (f *figure) legendRows(width vg.Length) (rows [][]int, colW vg.Length) {
	avail := width - 2*figPad
	var total vg.Length
	for i, e := range f.legend {
		if i > 0 {
			total += legendSpace
		}
		total += entryWidth(e)
		colW = max(colW, entryWidth(e))
	}
	if total <= avail {
		all := make([]int, len(f.legend))
		for i := range all {
			all[i] = i
		}
		if len(all) == 0 {
			return nil, 0
		}
		return [][]int{all}, 0
	}
	cols := max(1, int((avail+legendSpace)/(colW+legendSpace)))
	for i := 0; i < len(f.legend); i += cols {
		row := make([]int, 0, cols)
		for j := i; j < min(i+cols, len(f.legend)); j++ {
			row = append(row, j)
		}
		rows = append(rows, row)
	}
	return rows, colW
}

func (f *figure) headerHeight(width vg.Length) vg.Length {
	h := figPad
	if f.title != "" {
		h += figTitleStyle.Height(f.title) + figPad
	}
	for _, s := range f.subtitleLines(width) {
		h += subtitleStyle.Height(s) + figPad/2
	}
	if rows, _ := f.legendRows(width); len(rows) > 0 {
		n := len(rows)
		h += vg.Length(n)*legendRowH + figPad
	}
	return h
}

// subtitleLines returns the subtitle lines, split at "; " where a line
// would be wider than the figure.
func (f *figure) subtitleLines(width vg.Length) []string {
	var lines []string
	for _, s := range f.hows {
		if subtitleStyle.Width(s) <= width-2*figPad {
			lines = append(lines, s)
			continue
		}
		lines = append(lines, strings.Split(s, "; ")...)
	}
	return lines
}

// align gives shared axes the union of the panels' ranges.
func (f *figure) align() {
	share := func(get func(p *plot.Plot) *plot.Axis) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range f.panels {
			a := get(p)
			lo, hi = math.Min(lo, a.Min), math.Max(hi, a.Max)
		}
		for _, p := range f.panels {
			a := get(p)
			a.Min, a.Max = lo, hi
		}
	}
	if f.shareX {
		share(func(p *plot.Plot) *plot.Axis { return &p.X })
	}
	if f.shareY {
		share(func(p *plot.Plot) *plot.Axis { return &p.Y })
		// One y label per row is enough when the ranges agree.
		_, cols := f.grid()
		for i, p := range f.panels {
			if i%cols != 0 {
				p.Y.Label.Text = ""
			}
		}
	}
}

// draw renders the figure onto c.
func (f *figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	top := c.Max.Y - figPad
	if f.title != "" {
		c.FillText(figTitleStyle, vg.Point{X: c.Center().X, Y: top}, f.title)
		top -= figTitleStyle.Height(f.title) + figPad
	}
	for _, s := range f.subtitleLines(c.Max.X - c.Min.X) {
		c.FillText(subtitleStyle, vg.Point{X: c.Center().X, Y: top}, s)
		top -= subtitleStyle.Height(s) + figPad/2
	}
	rows, colW := f.legendRows(c.Max.X - c.Min.X)
	ncols := 0
	for _, row := range rows {
		ncols = max(ncols, len(row))
	}
	for _, row := range rows {
		// Centre a single row; align the columns of a grid.
		var w vg.Length
		if colW > 0 {
			w = vg.Length(ncols)*colW + vg.Length(ncols-1)*legendSpace
		} else {
			for k, i := range row {
				if k > 0 {
					w += legendSpace
				}
				w += entryWidth(f.legend[i])
			}
		}
		x := c.Center().X - w/2
		y := top - legendRowH/2
		for _, i := range row {
			e := f.legend[i]
			thumb := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - legendRowH*0.4},
				Max: vg.Point{X: x + thumbW, Y: y + legendRowH*0.4},
			}}
			for _, t := range e.thumbs {
				t.Thumbnail(&thumb)
			}
			x += thumbW + legendGap
			c.FillText(legendStyle, vg.Point{X: x, Y: y}, e.label)
			if colW > 0 {
				x += colW - thumbW - legendGap + legendSpace
			} else {
				x += legendStyle.Width(e.label) + legendSpace
			}
		}
		top -= legendRowH
	}
	if len(rows) > 0 {
		top -= figPad
	}
	body := c
	body.Max.Y = top
	nr, nc := f.grid()
	grid := make([][]*plot.Plot, nr)
	for r := range grid {
		grid[r] = make([]*plot.Plot, nc)
		for k := range nc {
			if i := r*nc + k; i < len(f.panels) {
				grid[r][k] = f.panels[i]
			}
		}
	}
	// Panel titles are drawn here, in a band of fixed height right above
	// each panel's data area, so they line up whatever the tick labels.
	titles := make([]string, len(f.panels))
	var band vg.Length
	for i, p := range f.panels {
		titles[i], p.Title.Text = p.Title.Text, ""
		if titles[i] != "" {
			band = panelTitleStyle.Height(titles[i]) + vg.Points(4)
		}
	}
	tiles := draw.Tiles{Rows: nr, Cols: nc, PadX: vg.Points(8), PadY: vg.Points(6) + band,
		PadLeft: figPad, PadRight: figPad + vg.Points(4), PadBottom: figPad, PadTop: band + vg.Points(1)}
	canvases := plot.Align(grid, tiles, body)
	for r := range grid {
		for k, p := range grid[r] {
			if p == nil {
				continue
			}
			p.Draw(canvases[r][k])
			if t := titles[r*nc+k]; t != "" {
				dc := p.DataCanvas(canvases[r][k])
				c.FillText(panelTitleStyle, vg.Point{X: dc.Center().X, Y: dc.Max.Y + vg.Points(4)}, t)
			}
		}
	}
	for i, p := range f.panels {
		p.Title.Text = titles[i]
	}
}

// encode renders the figure in format ("png", "svg" or "pdf").
func (f *figure) encode(w, h vg.Length, format string, dpi int) ([]byte, error) {
	var cw vg.CanvasWriterTo
	switch format {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	case "svg":
		// Embedded fonts: a viewer without Liberation Sans would otherwise
		// substitute a font of other widths and break the layout.
		cw = vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(true))
	case "pdf":
		cw = pdfCanvas{vgpdf.New(w, h)}
	default:
		return nil, fmt.Errorf("format %q (want png, svg or pdf)", format)
	}
	f.align()
	f.draw(draw.New(cw))
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode %s: %w", format, err)
	}
	return buf.Bytes(), nil
}
