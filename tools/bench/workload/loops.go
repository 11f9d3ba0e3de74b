package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/trace"
	"sync"
	"syscall"
	"time"
)

// A loop runs ops until the deadline and returns how many it ran. It
// checks the clock every few ops only, so the check costs next to nothing.
type loop func(deadline time.Time) int64

// runLoop: parse the common flags, wait for the start signal, warm up,
// measure one window, print the result line.
func runLoop(name string, args []string, body func(fs *flag.FlagSet) loop) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	d := fs.Duration("d", 3*time.Second, "measured window")
	warmup := fs.Duration("warmup", 300*time.Millisecond, "unmeasured run before the window")
	tr := fs.Bool("trace", false, "run Go's execution tracer (runtime/trace to io.Discard)")
	wait := fs.Bool("wait", false, "wait for SIGUSR1 before starting, and for SIGINT/SIGTERM before exiting")
	run := body(fs)
	fs.Parse(args)

	// Registered before "ready" is printed: an early signal must not
	// take its default action (termination).
	start := make(chan os.Signal, 1)
	stop := make(chan os.Signal, 1)
	if *wait {
		signal.Notify(start, syscall.SIGUSR1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	}
	fmt.Printf("ready pid=%d\n", os.Getpid())
	if *wait {
		select {
		case <-start:
		case <-stop:
			os.Exit(0)
		}
	}
	if *tr {
		startTrace()
	}
	total := run(time.Now().Add(*warmup))
	c0, t0 := cpuNs(), time.Now()
	ops := run(t0.Add(*d))
	c1, t1 := cpuNs(), time.Now()
	if *tr {
		trace.Stop()
	}
	total += ops
	result{workload: name, trace: *tr, seconds: t1.Sub(t0).Seconds(),
		ops: ops, cpuNs: c1 - c0, opsTotal: total}.print()
	if *wait {
		<-stop
	}
}

// pingpong: one op is a round trip between two goroutines over two
// unbuffered channels (2 parks and 2 readies per op).
func pingpong(fs *flag.FlagSet) loop {
	ping, pong := make(chan struct{}), make(chan struct{})
	var once sync.Once
	return func(deadline time.Time) int64 {
		once.Do(func() {
			go func() {
				for range ping {
					pong <- struct{}{}
				}
			}()
		})
		var n int64
		for {
			for i := 0; i < 256; i++ {
				ping <- struct{}{}
				<-pong
			}
			n += 256
			if !time.Now().Before(deadline) {
				return n
			}
		}
	}
}

// spawn: one op is a goroutine created and exited; they are started in
// batches and waited for with a WaitGroup (1 spawn, 1 exit per op, plus a
// park and a ready per batch).
func spawn(fs *flag.FlagSet) loop {
	batch := fs.Int("batch", 64, "goroutines per batch")
	return func(deadline time.Time) int64 {
		var wg sync.WaitGroup
		var n int64
		for {
			for j := 0; j < 4; j++ {
				wg.Add(*batch)
				for i := 0; i < *batch; i++ {
					go wg.Done()
				}
				wg.Wait()
				n += int64(*batch)
			}
			if !time.Now().Before(deadline) {
				return n
			}
		}
	}
}
