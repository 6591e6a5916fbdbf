package catalogtest

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/sassoftware/relic/v8/lib/pkcs9"
)

// TSAMode is how a test TSA answers.
type TSAMode int32

const (
	TSAGood        TSAMode = iota // openssl ts -reply's response to the request
	TSAHTTP500                    // HTTP 500 with a text body
	TSAGarbage                    // HTTP 200 with a body that is not a TimeStampResp
	TSAReject                     // openssl's response with a TSA that accepts SHA-1 imprints only: status rejection, badAlg
	TSAWrongDigest                // openssl's token for the request with another imprint (same nonce): the server lies
)

// TSA is an RFC 3161 timestamp server for tests: an httptest server whose handler has
// Debian's openssl (`openssl ts -reply`) answer each request, with a TSA certificate
// (extendedKeyUsage critical timeStamping) issued by its own root, both made by openssl.
type TSA struct {
	URL      string // the server's URL
	RootFile string // the TSA root certificate (PEM), for osslsigncode -TSA-CAfile
	Root     *x509.Certificate
	Requests atomic.Int32 // requests answered
	mode     atomic.Int32
	dir      string
	openssl  string
	mu       sync.Mutex // openssl ts updates the serial file
}

// SetMode sets how the server answers from now on.
func (s *TSA) SetMode(m TSAMode) { s.mode.Store(int32(m)) }

const tsaConfig = `# openssl ts -reply configuration of the test TSA
[ tsa ]
default_tsa = tsa_good

[ tsa_good ]
dir = %[1]s
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_sha1_only ]
dir = %[1]s
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha1
ess_cert_id_alg = sha256
`

const tsaExtensions = `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

// NewTSA starts a test TSA, closed when the test ends. Without openssl the test is skipped.
func NewTSA(t testing.TB) *TSA {
	t.Helper()
	s := &TSA{dir: t.TempDir(), openssl: checker.Find(t, "openssl")}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(s.openssl, args...)
		cmd.Dir = s.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ts.cnf", fmt.Sprintf(tsaConfig, s.dir))
	write("tsa.ext", tsaExtensions)
	write("serial", "01\n")
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsaroot.key", "-out", "tsaroot.pem", "-days", "2",
		"-subj", "/O=rules_oemimage tests/CN=Test TSA Root", "-config", "/dev/null", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
		"-subj", "/O=rules_oemimage tests/CN=Test TSA", "-config", "/dev/null")
	run("x509", "-req", "-in", "tsa.csr", "-CA", "tsaroot.pem", "-CAkey", "tsaroot.key", "-set_serial", "1000",
		"-days", "1", "-sha256", "-extfile", "tsa.ext", "-out", "tsa.pem")
	s.RootFile = filepath.Join(s.dir, "tsaroot.pem")
	b, err := os.ReadFile(s.RootFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", s.RootFile)
	}
	if s.Root, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/tsa"
	return s
}

func (s *TSA) serve(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	mode := TSAMode(s.mode.Load())
	switch mode {
	case TSAHTTP500:
		http.Error(w, "the test TSA is down", http.StatusInternalServerError)
		return
	case TSAGarbage:
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>not a timestamp</html>")
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "expected a POST of application/timestamp-query", http.StatusBadRequest)
		return
	}
	query, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	section := "tsa_good"
	switch mode {
	case TSAReject:
		section = "tsa_sha1_only"
	case TSAWrongDigest:
		var req pkcs9.TimeStampReq
		if _, err := asn1.Unmarshal(query, &req); err != nil || len(req.MessageImprint.HashedMessage) == 0 {
			http.Error(w, fmt.Sprintf("bad request: %v", err), http.StatusBadRequest)
			return
		}
		req.MessageImprint.HashedMessage[0] ^= 0xff
		if query, err = asn1.Marshal(req); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, a := filepath.Join(s.dir, "request.tsq"), filepath.Join(s.dir, "response.tsr")
	os.Remove(a)
	if err := os.WriteFile(q, query, 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cmd := exec.Command(s.openssl, "ts", "-reply", "-config", filepath.Join(s.dir, "ts.cnf"), "-section", section, "-queryfile", q, "-out", a)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		http.Error(w, fmt.Sprintf("openssl ts -reply: %v\n%s", err, out), http.StatusInternalServerError)
		return
	}
	resp, err := os.ReadFile(a)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}
