package ui

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// NewTextInput returns a text field drawn with the shared styles: no
// prompt, a steady (non-blinking) cursor so an idle screen writes nothing,
// and no clipboard key (a console has none; terminal paste still works).
func NewTextInput(st *Styles, width, limit int) textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = limit
	in.SetWidth(width)
	in.SetStyles(textinput.Styles{
		Focused: textinput.StyleState{Text: st.InputFocus, Placeholder: st.Muted, Prompt: st.Label, Suggestion: st.Muted},
		Blurred: textinput.StyleState{Text: st.Input, Placeholder: st.Muted, Prompt: st.Label, Suggestion: st.Muted},
		Cursor:  textinput.CursorStyle{Shape: tea.CursorBlock, Blink: false},
	})
	in.KeyMap.Paste.SetEnabled(false)
	return in
}
