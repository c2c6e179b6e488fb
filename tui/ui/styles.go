package ui

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// Profile describes the terminal the console draws on.
type Profile struct {
	// Color is the colour depth; the renderer downsamples to it.
	Color colorprofile.Profile
	// ASCII selects ASCII borders and glyphs (--ascii, non-UTF-8 locale).
	ASCII bool
	// Serial selects the leanest drawing: marker-only selection, no
	// animation, no full-width fills (serial lines, vt100/vt220).
	Serial bool
	// Baud is the line speed of a real serial device, 0 when unknown.
	Baud int
	// Font is what the terminal's font can draw, when that is known (the
	// console font of a Linux VT, tui/vtfont); nil means anything.
	Font Charset
}

// Charset is a set of characters a terminal font has glyphs for.
type Charset interface {
	Has(r rune) bool
}

// CanDraw reports whether the terminal can show every character of s: not
// in ASCII mode unless s is ASCII, and only with the font's glyphs.
func (p Profile) CanDraw(s string) bool {
	for _, r := range s {
		if r < 0x80 {
			continue
		}
		if p.ASCII || p.Font != nil && !p.Font.Has(r) {
			return false
		}
	}
	return true
}

// Glyphs are the characters that differ between UTF-8 and ASCII terminals.
type Glyphs struct {
	Marker   string // selection marker
	Default  string // marks the interface with the default route
	Arrow    string // "current → new"
	Bullet   string
	Ellipsis string
	Rule     string // horizontal rule character
	OK       string
	Fail     string
	Block    string // full block for big letters
	// LeftRight names the left and right arrow keys in key hints.
	LeftRight string
}

// Styles is the one set of styles every component uses. Build it with
// NewStyles and pass it down; never create styles elsewhere.
type Styles struct {
	Profile Profile
	Glyphs  Glyphs
	Border  lipgloss.Border

	Header     lipgloss.Style // product name bar
	HeaderNode lipgloss.Style
	Demo       lipgloss.Style // the DEMO mark
	Rule       lipgloss.Style
	Title      lipgloss.Style // section titles
	Label      lipgloss.Style // field labels
	Value      lipgloss.Style
	Muted      lipgloss.Style
	OK         lipgloss.Style
	Fail       lipgloss.Style
	Warn       lipgloss.Style
	Banner     lipgloss.Style // error banner
	Notice     lipgloss.Style // informational banner
	Item       lipgloss.Style // menu item
	Selected   lipgloss.Style // selected menu item (text)
	MarkerOn   lipgloss.Style // selection marker
	Digit      lipgloss.Style // menu shortcut digit
	HelpKey    lipgloss.Style
	HelpDesc   lipgloss.Style
	Input      lipgloss.Style
	InputFocus lipgloss.Style
	Code       lipgloss.Style // activation code
}

// asciiGlyphs are the glyphs of an ASCII terminal.
var asciiGlyphs = Glyphs{Marker: ">", Default: "*", Arrow: "->", Bullet: "-", Ellipsis: "...", Rule: "-", OK: "+", Fail: "x", Block: "#", LeftRight: "left/right"}

// fallbackGlyphs replaces each glyph of g the font cannot draw (a Linux
// VT's font has no ✓, and draws it as its replacement glyph) with its
// ASCII counterpart.
func fallbackGlyphs(p Profile, g Glyphs) Glyphs {
	pick := func(u, a string) string {
		if p.CanDraw(u) {
			return u
		}
		return a
	}
	a := asciiGlyphs
	return Glyphs{Marker: pick(g.Marker, a.Marker), Default: pick(g.Default, a.Default), Arrow: pick(g.Arrow, a.Arrow),
		Bullet: pick(g.Bullet, a.Bullet), Ellipsis: pick(g.Ellipsis, a.Ellipsis), Rule: pick(g.Rule, a.Rule),
		OK: pick(g.OK, a.OK), Fail: pick(g.Fail, a.Fail), Block: pick(g.Block, a.Block), LeftRight: pick(g.LeftRight, a.LeftRight)}
}

// NewStyles builds the styles for a terminal profile.
func NewStyles(p Profile) Styles {
	g := Glyphs{Marker: "▸", Default: "*", Arrow: "→", Bullet: "•", Ellipsis: "…", Rule: "─", OK: "✓", Fail: "✗", Block: "█", LeftRight: "←/→"}
	border := lipgloss.NormalBorder()
	if p.ASCII {
		g = asciiGlyphs
		border = lipgloss.ASCIIBorder()
	} else if p.Font != nil {
		g = fallbackGlyphs(p, g)
		b := border
		if !p.CanDraw(b.Top + b.Bottom + b.Left + b.Right + b.TopLeft + b.TopRight + b.BottomLeft + b.BottomRight) {
			border = lipgloss.ASCIIBorder()
		}
	}
	var accent, dim, good, bad, warn, headerBG, headerFG color.Color
	if p.Color >= colorprofile.ANSI256 {
		accent, dim = lipgloss.Color("#5fafff"), lipgloss.Color("#8a8a8a")
		good, bad, warn = lipgloss.Color("#5fd75f"), lipgloss.Color("#ff5f5f"), lipgloss.Color("#ffd75f")
		headerBG, headerFG = lipgloss.Color("#005f87"), lipgloss.Color("#ffffff")
	} else {
		accent, dim = lipgloss.Color("12"), lipgloss.Color("8")
		good, bad, warn = lipgloss.Color("10"), lipgloss.Color("9"), lipgloss.Color("11")
		headerBG, headerFG = lipgloss.Color("4"), lipgloss.Color("15")
	}
	s := Styles{Profile: p, Glyphs: g, Border: border}
	plain := lipgloss.NewStyle()
	mono := p.Color < colorprofile.ANSI
	fg := func(st lipgloss.Style, c color.Color) lipgloss.Style {
		if mono {
			return st
		}
		return st.Foreground(c)
	}
	s.Header = plain.Bold(true).Foreground(headerFG).Background(headerBG)
	s.HeaderNode = plain.Foreground(headerFG).Background(headerBG)
	s.Demo = plain.Bold(true).Reverse(true)
	s.Rule = fg(plain, dim)
	s.Title = fg(plain.Bold(true), accent)
	s.Label = fg(plain, dim)
	s.Value = plain
	s.Muted = fg(plain, dim)
	s.OK = fg(plain.Bold(true), good)
	s.Fail = fg(plain.Bold(true), bad)
	s.Warn = fg(plain.Bold(true), warn)
	s.Banner = plain.Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1"))
	s.Notice = fg(plain, warn)
	s.Item = plain
	s.Selected = plain.Reverse(true)
	s.MarkerOn = plain // reverse video on the label carries the colour
	s.Digit = fg(plain, accent)
	s.HelpKey = plain.Bold(true)
	s.HelpDesc = fg(plain, dim)
	s.Input = plain.Underline(true)
	// Underlined like a blurred field, bold; the caret is the one reverse-video
	// cell, so it shows in monochrome too.
	s.InputFocus = plain.Underline(true).Bold(true)
	s.Code = plain.Bold(true)
	if p.Serial || p.Color < colorprofile.ANSI {
		// Monochrome and serial: the header is plain reverse video, and
		// the selection is a reverse-video marker only, so a move rewrites
		// two cells instead of two rows.
		s.Header = plain.Reverse(true).Bold(true)
		s.HeaderNode = plain.Reverse(true)
		s.Selected = plain
		s.MarkerOn = plain.Reverse(true).Bold(true)
		s.Banner = plain.Reverse(true).Bold(true)
		s.Input = plain.Underline(true)
	}
	if p.Serial {
		s.Rule = plain
	}
	return s
}

// Buttons renders a row of buttons ("[ Keep ]   [ Revert ]") with sel
// selected: a marker before it and the Selected style, so the choice shows
// without colour. Every screen draws its buttons with it.
func (s *Styles) Buttons(labels []string, sel int) string {
	var b strings.Builder
	b.WriteString("  ")
	for i, l := range labels {
		if i > 0 {
			b.WriteString("   ")
		}
		btn := "[ " + l + " ]"
		if i == sel {
			b.WriteString(s.MarkerOn.Render(s.Glyphs.Marker) + " " + s.Selected.Render(btn))
		} else {
			b.WriteString("  " + btn)
		}
	}
	return b.String()
}
