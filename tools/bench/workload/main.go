// Command workload is the benchmark target of tools/bench/run.sh: a few
// goroutine-heavy loops that print their throughput over a fixed window.
//
//	workload pingpong   [-d 3s] [-warmup 300ms] [-trace] [-wait]
//	workload spawn      [-d 3s] [-warmup 300ms] [-trace] [-wait] [-batch 64]
//	workload httpserver [-addr 127.0.0.1:0] [-trace]
//	workload httpload   -addr HOST:PORT [-c 16] [-d 3s] [-warmup 300ms]
//
// Standard library only, no go.mod: it builds with every Go of the test
// matrix (1.19 and later) with GO111MODULE=off.
//
// Protocol with run.sh. A measured process first prints
//
//	ready pid=N [addr=HOST:PORT]
//
// With -wait it then blocks until SIGUSR1, so that a tracer can attach
// first; it warms up, measures, prints one line
//
//	result workload=W go=goX.Y.Z trace=0|1 seconds=S ops=N ops_per_sec=R cpu_ns=C ops_total=T
//
// and, with -wait, stays idle (no goroutine activity) until SIGINT or
// SIGTERM, so that the tracer is stopped while its target still lives.
// cpu_ns is the measured process's user+system CPU time over the window
// (getrusage), which includes the kernel time of uprobe traps and BPF
// programs run on its behalf. ops_total counts every op since the start
// signal (warm-up included), to divide the tracer's event counts by.
//
// -trace runs Go's execution tracer in-process (runtime/trace to
// io.Discard) from the start signal (httpserver: from start-up) to the end
// of the window: the "what does Go's own tracer cost" variant.
//
// For http, the server is the measured process (the tracer's target) and
// httpload is a separate process: a keep-alive HTTP/1.1 client on a fixed
// number of connections, closed loop (each connection sends its next
// request once the previous response is read), loopback only. It reads
// the server's CPU time and request count from /_bench before and after
// its window and prints the result line on the server's behalf.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/trace"
	"syscall"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: workload pingpong|spawn|httpserver|httpload [flags] (-h for flags)\n")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	name, args := os.Args[1], os.Args[2:]
	switch name {
	case "pingpong":
		runLoop(name, args, pingpong)
	case "spawn":
		runLoop(name, args, spawn)
	case "httpserver":
		httpServer(args)
	case "httpload":
		httpLoad(args)
	default:
		usage()
	}
}

// cpuNs is this process's user+system CPU time, all threads.
func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fatalf("getrusage: %v", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "workload: "+format+"\n", args...)
	os.Exit(1)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type result struct {
	workload string
	goVer    string // the measured process's Go, "" for this one's
	trace    bool
	seconds  float64
	ops      int64
	cpuNs    int64
	opsTotal int64
	extra    string
}

func (r result) print() {
	if r.goVer == "" {
		r.goVer = runtime.Version()
	}
	fmt.Printf("result workload=%s go=%s trace=%d seconds=%.6f ops=%d "+
		"ops_per_sec=%.1f cpu_ns=%d ops_total=%d%s\n",
		r.workload, r.goVer, b2i(r.trace), r.seconds, r.ops,
		float64(r.ops)/r.seconds, r.cpuNs, r.opsTotal, r.extra)
}

func startTrace() {
	if err := trace.Start(io.Discard); err != nil {
		fatalf("runtime/trace: %v", err)
	}
}
