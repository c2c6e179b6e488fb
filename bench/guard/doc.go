// Package guard holds the terminal-cost regression test: it builds
// nodeconsole, runs it with --demo on a pseudo-terminal (bench/ptyrun) and
// asserts the byte-exact figures of docs/performance.md: first-frame bytes,
// bytes per menu move and bytes while idle. No timings are asserted; those are
// in the benchmark (bench/tuibench).
package guard
