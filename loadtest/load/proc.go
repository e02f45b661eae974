package load

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports (the kernel fixes the value it
// exports regardless of CONFIG_HZ).
const clockTicks = 100

// ProcSample is the CPU and memory of a process and its descendants (peer
// gateways run under npx or spawn workers, so the tree is what serves).
type ProcSample struct {
	PIDs       int     `json:"pids"`
	CPUSeconds float64 `json:"cpu_seconds"` // utime+stime, summed
	RSSKB      int64   `json:"rss_kb"`      // VmRSS, summed
	HWMKB      int64   `json:"hwm_kb"`      // VmHWM (peak RSS), summed
}

// Proc reads /proc for pid and every descendant.
type Proc struct {
	root string // "/proc"; a field so tests can point it at testdata
	pid  int
}

// NewProc watches pid and its descendants.
func NewProc(pid int) *Proc { return &Proc{root: "/proc", pid: pid} }

// Sample reads the tree now. A process that exits mid-read is skipped.
func (p *Proc) Sample() (ProcSample, error) {
	pids, err := p.tree()
	if err != nil {
		return ProcSample{}, err
	}
	var s ProcSample
	for _, pid := range pids {
		cpu, err := p.cpu(pid)
		if err != nil {
			if pid == p.pid {
				return ProcSample{}, err
			}
			continue
		}
		rss, hwm, err := p.mem(pid)
		if err != nil {
			continue
		}
		s.PIDs++
		s.CPUSeconds += cpu
		s.RSSKB += rss
		s.HWMKB += hwm
	}
	return s, nil
}

// tree lists pid and its descendants by walking the ppid links of every
// process in /proc.
func (p *Proc) tree() ([]int, error) {
	if _, err := os.Stat(filepath.Join(p.root, strconv.Itoa(p.pid))); err != nil {
		return nil, fmt.Errorf("process %d: %w", p.pid, err)
	}
	entries, err := os.ReadDir(p.root)
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := p.statFields(pid)
		if err != nil || len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{p.pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

// statFields returns the fields of /proc/<pid>/stat after the command name
// (which may contain spaces and parentheses): field 0 is the state, so
// ppid is [1], utime [11], stime [12].
func (p *Proc) statFields(pid int) ([][]byte, error) {
	b, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return bytes.Fields(b[i+1:]), nil
}

func (p *Proc) cpu(pid int) (float64, error) {
	f, err := p.statFields(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(ut+st) / clockTicks, nil
}

func (p *Proc) mem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = kb(line)
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = kb(line)
		}
	}
	return rss, hwm, nil
}

// kb parses "VmRSS:\t  1234 kB".
func kb(line []byte) int64 {
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0
	}
	v, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return v
}
