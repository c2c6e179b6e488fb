// Package guard holds the terminal-cost regression test: it builds
// nodeconsole, runs it with --demo on a pseudo-terminal (bench/ptyrun) and
// asserts the byte-exact figures of docs/performance.md: first-frame bytes,
// bytes per menu move and bytes while idle, plus an upper bound on the idle
// console's context switches (a ticking renderer makes ten times more). No
// timings are asserted; those are in the benchmark (bench/tuibench).
package guard
