package api

import (
	"strings"
	"testing"
)

// FuzzNormalizeUserCode: whatever is typed, NormalizeUserCode does not
// panic; what it accepts is UserCodeLength letters of UserCodeAlphabet, the
// same whatever the case, and stable through FormatUserCode (what the
// console shows normalises back to the same code).
func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "BCDFGHJK", " b.c.d.f_g-h-j-k ", "BCDF-GHJ", "AEIO-UBCD",
		"BCDF-GHJKL", "ＢＣＤＦ-ＧＨＪＫ", "bcdf\tghjk", "", "----", "ß", "BCDF\x00GHJK", "İBCD-FGHJ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := NormalizeUserCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("refused %q but returned %q", s, code)
			}
			return
		}
		if len(code) != UserCodeLength {
			t.Fatalf("%q normalised to %q (%d bytes)", s, code, len(code))
		}
		for _, r := range code {
			if !strings.ContainsRune(UserCodeAlphabet, r) {
				t.Fatalf("%q normalised to %q with %q outside the alphabet", s, code, r)
			}
		}
		if again, ok := NormalizeUserCode(FormatUserCode(code)); !ok || again != code {
			t.Fatalf("FormatUserCode(%q) = %q normalises to %q, %v", code, FormatUserCode(code), again, ok)
		}
		if lower, ok := NormalizeUserCode(strings.ToLower(s)); !ok || lower != code {
			t.Fatalf("lower case of %q normalises to %q, %v; want %q", s, lower, ok, code)
		}
	})
}
