// Package server is the guest agent's HTTP API, wire-compatible with upstream neonvm-daemon
// (GET/PUT /cpu, GET/PUT /files/<path>) plus /ready and /status for the runner. Unlike upstream's,
// every request needs the runner's bearer token (the runtime disk's agent-token), bodies are
// bounded, and /files reaches only the synced-disk roots.
package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neonvm-ts/neonvm/guest/agent/cpu"
	"github.com/neonvm-ts/neonvm/guest/agent/files"
	"github.com/neonvm-ts/neonvm/guest/agent/status"
)

var swapMu sync.Mutex

// CPUControl is what the handlers need from the CPU side (cpu.Controller in the agent).
type CPUControl interface {
	Online() ([]int, error)
	Present() ([]int, error)
	SetOnlineCount(n int) error
	// Target is the count last set through PUT /cpu (0: none yet).
	Target() int
}

// Config wires the handlers to the (real or fake) system.
type Config struct {
	CPU            CPUControl
	CPUScalingMode string // "QmpScaling" or "SysfsScaling"
	MemInfoPath    string // /proc/meminfo
	FilesRoot      string // "/" in the guest; PUT /files/etc/x writes FilesRoot/etc/x
	// Roots are the only guest directories /files reads and writes (files-roots.json).
	Roots []files.Root
	// Token is the bearer token every request must carry; empty refuses every request.
	Token string
	// ResizeSwap re-initialises the swap disk at this many bytes (the guest's resize-swap helper);
	// nil: PUT /swap answers 404.
	ResizeSwap func(bytes uint64) error
	Now        func() time.Time
}

// Body limits: a Secret or ConfigMap holds at most 1 MiB, base64 in JSON makes that ~1.4 MiB.
const (
	MaxFilesBody = 2 << 20
	MaxOtherBody = 4 << 10
)

// Status is the GET /status body.
type Status struct {
	CPUScalingMode string `json:"cpuScalingMode"`
	// CPUTarget is the online count last requested with PUT /cpu (0: none, every plugged CPU runs).
	CPUTarget     int    `json:"cpuTarget"`
	OnlineCPUs    []int  `json:"onlineCpus"`
	PresentCPUs   []int  `json:"presentCpus"`
	MemTotalBytes uint64 `json:"memTotalBytes"`
	// SwapTotalBytes is the swap the kernel has enabled (/proc/meminfo SwapTotal).
	SwapTotalBytes uint64 `json:"swapTotalBytes"`
}

// Handler returns the agent's HTTP handler.
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cpu", cfg.handleCPU)
	mux.HandleFunc("/files/", cfg.handleFiles)
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ready\n") })
	mux.HandleFunc("/status", cfg.handleStatus)
	mux.HandleFunc("/swap", cfg.handleSwap)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !TokenMatches(r.Header.Get("Authorization"), cfg.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="neonvmd"`)
			http.Error(w, "unauthorized: the runner's bearer token is required", http.StatusUnauthorized)
			return
		}
		limit := int64(MaxOtherBody)
		if strings.HasPrefix(r.URL.Path, "/files/") {
			limit = MaxFilesBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if strings.HasPrefix(r.URL.Path, "/files/") {
			// Not through the mux: it would answer a path with ".." by a redirect to the cleaned
			// path; files.Resolve refuses it with a reason instead.
			cfg.handleFiles(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// TokenMatches checks an Authorization header against the expected token in constant time
// (hashing first so neither the content nor the length leaks through timing).
func TokenMatches(header, expected string) bool {
	if expected == "" {
		return false
	}
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	a := sha256.Sum256([]byte(strings.TrimSpace(got)))
	b := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (cfg Config) handleCPU(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		online, err := cfg.CPU.Online()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, strconv.Itoa(len(online)*1000))
	case http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			code := http.StatusBadRequest
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), code)
			return
		}
		milli, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		if err != nil {
			http.Error(w, "body must be a decimal milli-CPU integer", http.StatusBadRequest)
			return
		}
		count, err := cpu.MilliToCount(milli)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := cfg.CPU.SetOnlineCount(count); err != nil {
			log.Printf("neonvmd: set online cpus to %d: %v", count, err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (cfg Config) handleFiles(w http.ResponseWriter, r *http.Request) {
	dir, root, err := files.Resolve(cfg.FilesRoot, cfg.Roots, strings.TrimPrefix(r.URL.Path, "/files"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, files.ErrBadPath) {
			code = http.StatusBadRequest
		} else if errors.Is(err, files.ErrOutsideRoots) {
			code = http.StatusForbidden
		}
		http.Error(w, err.Error(), code)
		return
	}
	switch r.Method {
	case http.MethodGet:
		sum, err := files.Checksum(filepath.Join(dir, "..data"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, sum)
	case http.MethodPut:
		if r.Context().Err() != nil {
			w.WriteHeader(http.StatusRequestTimeout)
			return
		}
		var payload files.Payload
		if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
			code := http.StatusBadRequest
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), code)
			return
		}
		if err := files.Validate(payload); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := files.WriteAtomic(dir, payload, cfg.Now(), root.FileMode); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (cfg Config) handleStatus(w http.ResponseWriter, _ *http.Request) {
	st := Status{CPUScalingMode: cfg.CPUScalingMode, CPUTarget: cfg.CPU.Target()}
	var err error
	if st.OnlineCPUs, err = cfg.CPU.Online(); err == nil {
		st.PresentCPUs, err = cfg.CPU.Present()
	}
	if err == nil {
		var f *os.File
		if f, err = os.Open(cfg.MemInfoPath); err == nil {
			var m map[string]uint64
			m, err = status.MemInfo(f)
			f.Close()
			st.MemTotalBytes = m["MemTotal"]
			st.SwapTotalBytes = m["SwapTotal"]
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// handleSwap: PUT with a decimal byte count resizes the swap (0 turns it off); serialised because
// swapoff/mkswap/swapon of one device must not interleave.
func (cfg Config) handleSwap(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut || cfg.ResizeSwap == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
	if err != nil {
		http.Error(w, "body must be a decimal number of bytes", http.StatusBadRequest)
		return
	}
	swapMu.Lock()
	defer swapMu.Unlock()
	if err := cfg.ResizeSwap(n); err != nil {
		log.Printf("neonvmd: resize swap to %d bytes: %v", n, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
