package userdata

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFromIMDSAzure(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("#cloud-config\nnodeconsole: {}\n"))
	w.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" || r.URL.Path != "/metadata/instance/compute/userData" || r.URL.Query().Get("format") != "text" {
			http.Error(w, "", http.StatusBadRequest)
			return
		}
		w.Write([]byte(base64.StdEncoding.EncodeToString(gz.Bytes())))
	}))
	defer srv.Close()
	// DMI says nothing: --source imds tries AWS (404 here), then Azure.
	f := Finder{IMDS: srv.URL, DMIDir: t.TempDir()}
	got, err := f.FromSource(context.Background(), "imds")
	if err != nil || string(got.Data) != "#cloud-config\nnodeconsole: {}\n" || got.Source != "Azure instance metadata" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestFromIMDSAWSNone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.Write([]byte("tok"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	got, err := Finder{IMDS: srv.URL}.FromIMDS(context.Background(), "aws")
	if got != nil || err != nil {
		t.Fatalf("no user data: got %+v, %v", got, err)
	}
}

func TestCloudFromDMI(t *testing.T) {
	for _, tc := range []struct{ file, value, want string }{
		{"sys_vendor", "Amazon EC2", "aws"},
		{"chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", "azure"},
		{"sys_vendor", "QEMU", ""},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.value+"\n"), 0o644)
		if got := (Finder{DMIDir: dir}).Cloud(); got != tc.want {
			t.Errorf("%s=%s: %q, want %q", tc.file, tc.value, got, tc.want)
		}
	}
}

// TestDevicesOrder: optical first, then USB, then other removable disks,
// then the rest; partitions before their disk; RAM and empty devices left
// out.
func TestDevicesOrder(t *testing.T) {
	root := t.TempDir()
	sys := filepath.Join(root, "block")
	os.MkdirAll(sys, 0o755)
	add := func(name, under string, files map[string]string, parts ...string) {
		dir := filepath.Join(root, "devices", under, name)
		os.MkdirAll(filepath.Join(dir, "device"), 0o755)
		for f, v := range files {
			os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644)
		}
		for _, p := range parts {
			os.MkdirAll(filepath.Join(dir, p), 0o755)
			os.WriteFile(filepath.Join(dir, p, "partition"), []byte("1\n"), 0o644)
		}
		os.Symlink(dir, filepath.Join(sys, name))
	}
	add("nvme0n1", "pci/nvme", map[string]string{"size": "100\n", "removable": "0\n"}, "nvme0n1p1")
	add("sda", "pci/ata1", map[string]string{"size": "100\n", "removable": "0\n"})
	add("sdb", "pci/usb2/2-1", map[string]string{"size": "100\n", "removable": "1\n"}, "sdb1")
	add("mmcblk0", "pci/mmc", map[string]string{"size": "100\n", "removable": "1\n"})
	add("sr0", "pci/ata2", map[string]string{"size": "100\n", "device/type": "5\n"})
	add("ram0", "virtual", map[string]string{"size": "100\n"})
	add("loop0", "virtual", map[string]string{"size": "0\n"})
	var got []string
	for _, d := range (Finder{SysBlock: sys, DevDir: "/dev"}).devices() {
		got = append(got, d.path+" "+d.kind)
	}
	want := "/dev/sr0 CD,/dev/sdb1 USB,/dev/sdb USB,/dev/mmcblk0 removable disk,/dev/nvme0n1p1 disk,/dev/nvme0n1 disk,/dev/sda disk"
	if strings.Join(got, ",") != want {
		t.Errorf("devices:\n%s\nwant:\n%s", strings.Join(got, ","), want)
	}
}
