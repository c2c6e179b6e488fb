package userdata

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Found is user data as read from its source.
type Found struct {
	Data []byte
	// Name labels problems: "/dev/sr0/user-data", "AWS user data".
	Name string
	// Source says where it came from, for people: "CIDATA (USB)",
	// "CIDATA (CD)", "AWS instance metadata".
	Source string
	// Where is the device, file, directory or URL it was read from.
	Where string
}

// Finder finds user data. Every path and the metadata address are
// fields, so that tests never touch the host's devices.
type Finder struct {
	SysBlock string // block devices, normally /sys/block
	DevDir   string // device nodes, normally /dev
	DMIDir   string // normally /sys/class/dmi/id
	// IMDS is the instance metadata service's base URL, normally
	// http://169.254.169.254.
	IMDS string
	// Timeout bounds each metadata request (default 2 s).
	Timeout time.Duration
	// Wait is how long to keep trying while the metadata service cannot
	// be reached at all (no address or route yet, early at boot). A
	// service that does not answer is not retried.
	Wait time.Duration
	Log  *slog.Logger
}

// DefaultFinder reads the host's devices and metadata service.
func DefaultFinder(log *slog.Logger) Finder {
	return Finder{SysBlock: "/sys/block", DevDir: "/dev", DMIDir: "/sys/class/dmi/id",
		IMDS: "http://169.254.169.254", Timeout: 2 * time.Second, Wait: 20 * time.Second, Log: log}
}

func (f Finder) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}

// Find looks at the block devices (optical and removable first) for a
// CIDATA volume with a user-data file, then, when DMI says the node runs
// on AWS or Azure, at the instance metadata. It returns nil and no error
// when there is no user data anywhere.
func (f Finder) Find(ctx context.Context) (*Found, error) {
	for _, d := range f.devices() {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, err := OpenVolume(d.path)
		if err != nil {
			continue // no disc, no permission, no ISO 9660 or FAT: not ours
		}
		if !v.IsCIDATA() {
			v.Close()
			continue
		}
		data, err := v.ReadUserData()
		v.Close()
		if errors.Is(err, ErrNoUserData) {
			f.log().Info("user data: CIDATA volume without a user-data file ignored", "device", d.path, "fs", v.Type)
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Found{Data: data, Name: d.path + "/" + FileName, Source: "CIDATA (" + d.kind + ")", Where: d.path}, nil
	}
	if cloud := f.Cloud(); cloud != "" {
		return f.FromIMDS(ctx, cloud)
	}
	return nil, nil
}

// FromSource reads user data from source: "imds", a block device or an
// image file holding an ISO 9660 or FAT filesystem, or a directory with
// a user-data file. A volume named explicitly need not be labelled
// CIDATA.
func (f Finder) FromSource(ctx context.Context, source string) (*Found, error) {
	if source == "imds" {
		if cloud := f.Cloud(); cloud != "" {
			return f.FromIMDS(ctx, cloud)
		}
		// DMI does not say: AWS, then Azure.
		found, err := f.FromIMDS(ctx, "aws")
		if err == nil {
			return found, nil
		}
		found, err2 := f.FromIMDS(ctx, "azure")
		if err2 == nil {
			return found, nil
		}
		return nil, errors.Join(err, err2)
	}
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("userdata: %w", err)
	}
	if fi.IsDir() {
		data, err := readLimited(os.DirFS(source), FileName)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("userdata: %s: %w", source, ErrNoUserData)
		}
		if err != nil {
			return nil, fmt.Errorf("userdata: read %s: %w", filepath.Join(source, FileName), err)
		}
		return &Found{Data: data, Name: filepath.Join(source, FileName), Source: "directory " + source, Where: source}, nil
	}
	v, err := OpenVolume(source)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	if !v.IsCIDATA() {
		f.log().Info("user data: volume named with --source is not labelled CIDATA; reading it anyway", "source", source, "label", v.Label)
	}
	data, err := v.ReadUserData()
	if err != nil {
		return nil, fmt.Errorf("userdata: %s: %w", source, err)
	}
	kind := "image"
	if fi.Mode()&os.ModeDevice != 0 {
		kind = "device"
	}
	return &Found{Data: data, Name: source + "/" + FileName, Source: "CIDATA (" + kind + ")", Where: source}, nil
}

type device struct {
	path string
	kind string // CD, USB, removable disk, disk
	rank int
}

// devices lists the block devices and their partitions under SysBlock,
// optical and removable ones first. Empty devices and RAM disks are left
// out.
func (f Finder) devices() []device {
	entries, err := os.ReadDir(f.SysBlock)
	if err != nil {
		f.log().Warn("user data: cannot list block devices", "dir", f.SysBlock, "err", err)
		return nil
	}
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return strings.TrimSpace(string(b))
	}
	var out []device
	for _, e := range entries {
		name := e.Name()
		dir := filepath.Join(f.SysBlock, name)
		if strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") || read(filepath.Join(dir, "size")) == "0" {
			continue
		}
		real, _ := filepath.EvalSymlinks(dir)
		d := device{kind: "disk", rank: 3}
		switch {
		case strings.HasPrefix(name, "sr") || read(filepath.Join(dir, "device", "type")) == "5":
			d.kind, d.rank = "CD", 0
		case strings.Contains(real, "/usb"):
			d.kind, d.rank = "USB", 1
		case read(filepath.Join(dir, "removable")) == "1":
			d.kind, d.rank = "removable disk", 2
		}
		// Partitions first, then the whole device (a stick formatted
		// without a partition table).
		subs, _ := os.ReadDir(dir)
		for _, s := range subs {
			if _, err := os.Stat(filepath.Join(dir, s.Name(), "partition")); err == nil {
				p := d
				p.path = filepath.Join(f.DevDir, s.Name())
				out = append(out, p)
			}
		}
		d.path = filepath.Join(f.DevDir, name)
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b device) int { return a.rank - b.rank })
	return out
}

// Cloud says from DMI which cloud the node runs on: "aws", "azure" or "".
func (f Finder) Cloud() string {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(f.DMIDir, name))
		return strings.TrimSpace(string(b))
	}
	switch {
	case read("chassis_asset_tag") == "7783-7084-3265-9085-8269-3286-77":
		return "azure"
	case strings.Contains(strings.ToLower(read("sys_vendor")+" "+read("bios_vendor")+" "+read("product_version")), "amazon"):
		return "aws"
	}
	return ""
}

// FromIMDS reads the user data from the instance metadata service of
// cloud ("aws" or "azure"). It returns nil and no error when the instance
// has no user data.
func (f Finder) FromIMDS(ctx context.Context, cloud string) (*Found, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	c := &http.Client{
		// Link-local: never through a proxy; no redirects.
		Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: timeout}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer c.CloseIdleConnections()
	do := func(method, path string, hdr map[string]string) ([]byte, int, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(f.IMDS, "/")+path, nil)
		if err != nil {
			return nil, 0, err
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return nil, 0, fmt.Errorf("no answer within %s", timeout)
			}
			return nil, 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 2*MaxSize+1))
		if err == nil && len(body) > 2*MaxSize {
			err = fmt.Errorf("answer larger than %d bytes", 2*MaxSize)
		}
		return body, resp.StatusCode, err
	}
	switch cloud {
	case "aws":
		const what = "AWS instance metadata"
		var tok []byte
		var code int
		err := f.retryUnreachable(ctx, func() (err error) {
			tok, code, err = do(http.MethodPut, "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"})
			return err
		})
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("token request answered %d", code)
		}
		if err != nil {
			return nil, fmt.Errorf("userdata: %s: %w", what, err)
		}
		body, code, err := do(http.MethodGet, "/latest/user-data", map[string]string{"X-aws-ec2-metadata-token": strings.TrimSpace(string(tok))})
		switch {
		case err != nil:
			return nil, fmt.Errorf("userdata: %s: %w", what, err)
		case code == http.StatusNotFound:
			f.log().Info("user data: the instance has none", "source", what)
			return nil, nil
		case code != http.StatusOK:
			return nil, fmt.Errorf("userdata: %s: user-data answered %d", what, code)
		}
		data, err := gunzip(body)
		if err != nil {
			return nil, fmt.Errorf("userdata: %s: %w", what, err)
		}
		return &Found{Data: data, Name: "AWS user data", Source: what, Where: f.IMDS}, nil
	case "azure":
		const what = "Azure instance metadata"
		var body []byte
		var code int
		err := f.retryUnreachable(ctx, func() (err error) {
			body, code, err = do(http.MethodGet, "/metadata/instance/compute/userData?api-version=2021-01-01&format=text", map[string]string{"Metadata": "true"})
			return err
		})
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("userData answered %d", code)
		}
		if err != nil {
			return nil, fmt.Errorf("userdata: %s: %w", what, err)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			f.log().Info("user data: the instance has none", "source", what)
			return nil, nil
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body)))
		if err != nil {
			return nil, fmt.Errorf("userdata: %s: userData is not base64: %w", what, err)
		}
		data, err := gunzip(raw)
		if err != nil {
			return nil, fmt.Errorf("userdata: %s: %w", what, err)
		}
		return &Found{Data: data, Name: "Azure user data", Source: what, Where: f.IMDS}, nil
	}
	return nil, fmt.Errorf("userdata: unknown cloud %q", cloud)
}

// retryUnreachable runs try until it succeeds, fails other than with an
// unreachable network, or f.Wait has passed.
func (f Finder) retryUnreachable(ctx context.Context, try func() error) error {
	deadline := time.Now().Add(f.Wait)
	for {
		err := try()
		var op *net.OpError
		if err == nil || !errors.As(err, &op) || op.Op != "dial" || op.Timeout() || !time.Now().Before(deadline) {
			return err
		}
		f.log().Info("user data: metadata service not reachable yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// gunzip decompresses gzip'd user data (cloud-init accepts it), bounded.
func gunzip(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		if len(b) > MaxSize {
			return nil, fmt.Errorf("user data larger than %d bytes", MaxSize)
		}
		return b, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("user data: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("user data: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("user data larger than %d bytes", MaxSize)
	}
	return out, nil
}
