package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var helloBody = []byte("hello from the goleaktrace benchmark\n")

// httpServer serves "/" (a small constant body) and "/_bench" (the
// server's CPU time and request count, for httpload) on loopback until
// SIGINT/SIGTERM.
func httpServer(args []string) {
	fs := flag.NewFlagSet("httpserver", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	tr := fs.Bool("trace", false, "run Go's execution tracer (runtime/trace to io.Discard) from start-up")
	fs.Parse(args)

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fatalf("httpserver: -addr must be a loopback address, not %q", *addr)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fatalf("httpserver: %v", err)
	}
	if *tr {
		startTrace()
	}
	var reqs atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.Write(helloBody)
	})
	mux.HandleFunc("/_bench", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "go=%s trace=%d cpu_ns=%d reqs=%d\n",
			runtime.Version(), b2i(*tr), cpuNs(), reqs.Load())
	})
	go http.Serve(ln, mux)
	fmt.Printf("ready pid=%d addr=%s\n", os.Getpid(), ln.Addr())
	<-stop
}

// benchStats is what /_bench returns.
type benchStats struct {
	goVersion string
	trace     bool
	cpuNs     int64
	reqs      int64
}

func getBenchStats(addr string) benchStats {
	resp, err := http.Get("http://" + addr + "/_bench")
	if err != nil {
		fatalf("httpload: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fatalf("httpload: reading /_bench: %v", err)
	}
	var s benchStats
	for _, kv := range strings.Fields(string(body)) {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "go":
			s.goVersion = v
		case "trace":
			s.trace = n != 0
		case "cpu_ns":
			s.cpuNs = n
		case "reqs":
			s.reqs = n
		}
	}
	if s.goVersion == "" {
		fatalf("httpload: unexpected /_bench answer %q", body)
	}
	return s
}

// httpLoad drives the server with c keep-alive connections, closed loop,
// and prints the result line for the server: its requests per second as
// seen by the client, and its CPU time over the window.
func httpLoad(args []string) {
	fs := flag.NewFlagSet("httpload", flag.ExitOnError)
	addr := fs.String("addr", "", "server address HOST:PORT (loopback)")
	conns := fs.Int("c", 16, "connections (each with one request in flight)")
	d := fs.Duration("d", 3*time.Second, "measured window")
	warmup := fs.Duration("warmup", 300*time.Millisecond, "unmeasured run before the window")
	fs.Parse(args)
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fatalf("httpload: -addr must be a loopback HOST:PORT, not %q", *addr)
	}

	var done atomic.Int64
	var stopping atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		conn, err := net.Dial("tcp", *addr)
		if err != nil {
			fatalf("httpload: %v", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			client(conn, &done, &stopping)
		}()
	}
	time.Sleep(*warmup)
	s0 := getBenchStats(*addr)
	n0, t0 := done.Load(), time.Now()
	time.Sleep(*d)
	n1, t1 := done.Load(), time.Now()
	s1 := getBenchStats(*addr)
	stopping.Store(true)
	wg.Wait()
	// The server's requests are counted by the server, the window's by
	// the client; server_ops is the server's count over the window.
	result{workload: "http", goVer: s1.goVersion, trace: s1.trace, seconds: t1.Sub(t0).Seconds(),
		ops: n1 - n0, cpuNs: s1.cpuNs - s0.cpuNs, opsTotal: s1.reqs,
		extra: fmt.Sprintf(" server_ops=%d load_go=%s",
			s1.reqs-s0.reqs, runtime.Version())}.print()
}

var (
	request       = []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: goleaktrace-bench\r\n\r\n")
	contentLength = []byte("content-length:")
)

// client sends a request, reads the whole response, and again, until
// stopping. A minimal HTTP/1.1 reader: status line, headers up to the
// empty line, then Content-Length bytes of body.
func client(conn net.Conn, done *atomic.Int64, stopping *atomic.Bool) {
	br := bufio.NewReaderSize(conn, 4096)
	for !stopping.Load() {
		if _, err := conn.Write(request); err != nil {
			fatalf("httpload: write: %v", err)
		}
		clen := -1
		status := true
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				fatalf("httpload: read: %v", err)
			}
			if status {
				if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
					fatalf("httpload: unexpected status %q", line)
				}
				status = false
				continue
			}
			if len(line) <= 2 { // "\r\n": end of headers
				break
			}
			if len(line) > len(contentLength) &&
				bytes.EqualFold(line[:len(contentLength)], contentLength) {
				v := bytes.TrimSpace(line[len(contentLength):])
				clen, err = strconv.Atoi(string(v))
				if err != nil {
					fatalf("httpload: bad Content-Length %q", v)
				}
			}
		}
		if clen < 0 {
			fatalf("httpload: response without Content-Length")
		}
		if _, err := br.Discard(clen); err != nil {
			fatalf("httpload: read body: %v", err)
		}
		done.Add(1)
	}
}
