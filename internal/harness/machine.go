package harness

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine is what the numbers were measured on.
type machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPU        string `json:"cpu,omitempty"` // the model, when /proc/cpuinfo tells it
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

func thisMachine() machine {
	return machine{
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
	}
}

// cpuModel returns the first model name in /proc/cpuinfo, or "" where there
// is none: other systems, and some ARM kernels.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// String describes m in one line.
func (m machine) String() string {
	s := m.GOOS + "/" + m.GOARCH
	if m.CPU != "" {
		s += " · " + m.CPU
	}
	return s + fmt.Sprintf(" · %d CPUs · GOMAXPROCS %d · %s", m.NumCPU, m.GOMAXPROCS, m.GoVersion)
}
