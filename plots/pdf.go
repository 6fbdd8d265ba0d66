package plots

import (
	"image/color"
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgpdf"
)

// pdfCanvas works around two limits of gonum/plot v0.17's PDF canvas: it
// treats colours as if their channels were not premultiplied by alpha (so
// translucent bands came out grey), and it writes text in the single-byte
// cp1252 encoding of its embedded fonts while passing Go's UTF-8 through
// (so "·" came out as "Â·", and Δ cannot be shown at all).
type pdfCanvas struct{ *vgpdf.Canvas }

func (c pdfCanvas) SetColor(clr color.Color) {
	if clr == nil {
		clr = color.Black
	}
	c.Canvas.SetColor(straightAlpha{clr})
}

func (c pdfCanvas) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toCP1252(s))
}

var _ vg.CanvasWriterTo = pdfCanvas{}

// straightAlpha reports a colour's channels without alpha premultiplication,
// which is what vgpdf reads from RGBA (contrary to the color.Color contract;
// use it only there).
type straightAlpha struct{ c color.Color }

func (s straightAlpha) RGBA() (r, g, b, a uint32) {
	n := color.NRGBA64Model.Convert(s.c).(color.NRGBA64)
	return uint32(n.R), uint32(n.G), uint32(n.B), uint32(n.A)
}

// cp1252 maps the characters of Windows-1252's 0x80–0x9F block.
var cp1252 = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88,
	'‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93,
	'”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B,
	'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// pdfFallback spells characters that cp1252 lacks.
var pdfFallback = map[rune]string{
	'Δ': "Delta ", 'δ': "delta", '−': "-", '≈': "~", '≤': "<=", '≥': ">=", 'σ': "sigma", 'β': "beta",
	'τ': "tau", 'ᵢ': "i", '₀': "0", '₁': "1", '→': "->",
}

// toCP1252 encodes s for vgpdf's fonts: cp1252 where possible, a spelled
// fallback or "?" otherwise.
func toCP1252(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xA0 && r <= 0xFF):
			b.WriteByte(byte(r))
		case cp1252[r] != 0:
			b.WriteByte(cp1252[r])
		case pdfFallback[r] != "":
			b.WriteString(pdfFallback[r])
		default:
			b.WriteByte('?')
		}
	}
	return strings.ReplaceAll(b.String(), "Delta  ", "Delta ")
}
