package catalog_test

import (
	"bytes"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

func timestampSigner(pki *catalogtest.PKI, url string) *catalog.Signer {
	s := pki.Leaf.Signer()
	s.TimestampURL = url
	return s
}

// TestTimestamp signs a catalog with a timestamp from a TSA run by openssl ts -reply and
// checks it with Verify, osslsigncode (against the TSA's root) and openssl.
func TestTimestamp(t *testing.T) {
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	cat, _ := catalog.Build(testList())
	before := time.Now().Add(-2 * time.Second) // the token's time has a one second resolution
	signed, err := catalog.Sign(cat, timestampSigner(pki, tsa.URL))
	if err != nil {
		t.Fatal(err)
	}
	if n := tsa.Requests.Load(); n != 1 {
		t.Errorf("%d requests to the TSA, expected 1", n)
	}
	sig, err := catalog.Verify(signed, pki.Pool())
	if err != nil {
		t.Fatal(err)
	}
	ts := sig.Timestamp
	if ts == nil {
		t.Fatal("Verify found no timestamp")
	}
	if ts.Time.Before(before) || ts.Time.After(time.Now().Add(2*time.Second)) || !strings.Contains(ts.Subject, "CN=Test TSA,") {
		t.Errorf("timestamp %v by %q, expected about %v by the Test TSA", ts.Time, ts.Subject, before)
	}
	// Without a timestamp URL nothing is asked and there is no timestamp.
	plain, _ := catalog.Sign(cat, pki.Leaf.Signer())
	if s, err := catalog.Verify(plain, pki.Pool()); err != nil || s.Timestamp != nil {
		t.Errorf("unstamped catalog: %v, timestamp %v", err, s.Timestamp)
	}
	if tsa.Requests.Load() != 1 {
		t.Error("signing without a timestamp URL asked the TSA")
	}
	// Re-signing a timestamped catalog replaces signature and timestamp.
	again, err := catalog.Sign(signed, pki.Leaf.Signer())
	if err != nil || !bytes.Equal(again, plain) {
		t.Errorf("re-signing a timestamped catalog without a timestamp: %v, same bytes as a fresh signature: %v", err, bytes.Equal(again, plain))
	}
	// A token changed after signing (the year of its genTime, inside the TSTInfo it signs) is
	// refused.
	i := bytes.LastIndex(signed, []byte("\x18\x0f"+ts.Time.UTC().Format("20060102150405Z")))
	if i < 0 {
		t.Fatal("the token's genTime is not found")
	}
	bad := bytes.Clone(signed)
	bad[i+5]++
	if _, err := catalog.Verify(bad, pki.Pool()); err == nil || !strings.Contains(err.Error(), "the signature's timestamp does not verify") {
		t.Errorf("tampered token: %v", err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "x.cat")
	os.WriteFile(path, signed, 0o644)
	root := pki.Root.CertFile(t, dir, "root")
	osslsigncode := checker.Find(t, "osslsigncode")
	out, err := exec.Command(osslsigncode, "verify", "-CAfile", root, "-TSA-CAfile", tsa.RootFile, "-in", path).CombinedOutput()
	t.Logf("osslsigncode verify -CAfile root.pem -TSA-CAfile tsaroot.pem:\n%s", out)
	if err != nil {
		t.Fatalf("osslsigncode verify: %v", err)
	}
	for _, want := range []string{"Timestamp Server Signature verification: ok", "Signature verification: ok", "CN=Test TSA"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("osslsigncode verify lacks %q", want)
		}
	}
	// The timestamp is checked against the TSA root: with the signing root as TSA root it fails.
	out, err = exec.Command(osslsigncode, "verify", "-CAfile", root, "-TSA-CAfile", root, "-in", path).CombinedOutput()
	// (It still says the catalog's signature is ok, and exits 0: the timestamp is optional.)
	if !strings.Contains(string(out), "Timestamp Server Signature verification: failed") {
		t.Errorf("osslsigncode accepted the timestamp against another root: %v\n%s", err, out)
	}

	openssl := checker.Find(t, "openssl")
	out, err = exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", path).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out)
	}
	for _, want := range []string{":1.3.6.1.4.1.311.3.3.1", ":id-smime-ct-TSTInfo", ":id-smime-aa-signingCertificateV2", ":Test TSA Root"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("asn1parse output lacks %q", want)
		}
	}
	out, err = exec.Command(openssl, "pkcs7", "-inform", "DER", "-in", path, "-print", "-noout").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs7 -print: %v\n%s", err, out)
	}
	if s := string(out); !strings.Contains(s, "unauth_attr:") || !strings.Contains(s, "(1.3.6.1.4.1.311.3.3.1)") {
		t.Errorf("openssl pkcs7 -print shows no unsigned attribute 1.3.6.1.4.1.311.3.3.1:\n%s", s)
	}
}

// TestTimestampRefused: every way a TSA can fail fails Sign, with the URL and what went wrong.
func TestTimestampRefused(t *testing.T) {
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	cat, _ := catalog.Build(testList())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/tsa"
	l.Close()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 2<<20))
	}))
	defer big.Close()
	for _, tc := range []struct {
		name string
		mode catalogtest.TSAMode
		url  string
		want []string
	}{
		{"HTTP 500", catalogtest.TSAHTTP500, tsa.URL, []string{"timestamp server " + tsa.URL + ": HTTP 500 Internal Server Error: the test TSA is down"}},
		{"garbage", catalogtest.TSAGarbage, tsa.URL, []string{"timestamp server " + tsa.URL + ": not an RFC 3161 TimeStampResp", `Content-Type "text/html"`}},
		{"rejection", catalogtest.TSAReject, tsa.URL, []string{"timestamp server " + tsa.URL + ": the server refused the request: status 2 (rejection), failure badAlg", "not supported"}},
		{"another digest", catalogtest.TSAWrongDigest, tsa.URL, []string{"timestamp server " + tsa.URL + ": the token's message imprint", "is not the digest of this signature"}},
		{"unreachable", catalogtest.TSAGood, closed, []string{"timestamp server " + closed + ": ", "connection refused"}},
		{"oversized", catalogtest.TSAGood, big.URL, []string{"timestamp server " + big.URL + ": the response is over the limit of 1048576 bytes"}},
		{"not http", catalogtest.TSAGood, "ftp://tsa.example/", []string{`timestamp URL "ftp://tsa.example/": expected an http:// or https:// URL`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tsa.SetMode(tc.mode)
			out, err := catalog.Sign(cat, timestampSigner(pki, tc.url))
			if err == nil || out != nil {
				t.Fatalf("signed (%d bytes) with a failing TSA", len(out))
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestTimestampTimeout: a TSA that does not answer fails Sign after TimestampTimeout.
func TestTimestampTimeout(t *testing.T) {
	pki := catalogtest.New(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	old := catalog.TimestampTimeout
	catalog.TimestampTimeout = 300 * time.Millisecond
	defer func() { catalog.TimestampTimeout = old }()
	cat, _ := catalog.Build(testList())
	start := time.Now()
	_, err := catalog.Sign(cat, timestampSigner(pki, slow.URL))
	if err == nil || !strings.Contains(err.Error(), "timestamp server "+slow.URL+": ") || !strings.Contains(err.Error(), "no response within 300ms") {
		t.Errorf("slow TSA: %v", err)
	}
	t.Log(err)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v, timeout 300ms", d)
	}
}

// TestTimestampTrust: with the TSA's root (Trust.TSARoots), a timestamp whose server chain
// verifies at its time moves the check of the signing chain to that time, so a catalog whose
// signing certificate (and root) expired since verifies; without it, or with the wrong TSA
// root, it does not.
func TestTimestampTrust(t *testing.T) {
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	cat, _ := catalog.Build(testList())
	signed, err := catalog.Sign(cat, timestampSigner(pki, tsa.URL))
	if err != nil {
		t.Fatal(err)
	}
	tsaRoots := x509.NewCertPool()
	tsaRoots.AddCert(tsa.Root)
	later := pki.Leaf.Cert.NotAfter.Add(time.Hour) // the leaf, its root and the TSA's certificate have expired
	if _, err := catalog.VerifyAt(signed, pki.Pool(), later); err == nil || !strings.Contains(err.Error(), `signing certificate "CN=Test Signer,O=rules_oemimage tests" is not trusted at`) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired signing certificate, timestamp not trusted: %v", err)
	}
	sig, err := catalog.VerifyTrust(signed, catalog.Trust{Roots: pki.Pool(), TSARoots: tsaRoots, Time: later})
	if err != nil {
		t.Fatalf("expired signing certificate, trusted timestamp: %v", err)
	}
	ts := sig.Timestamp
	if !sig.At.Equal(ts.Time) || len(ts.Chain) != 2 || !ts.Chain[1].Equal(tsa.Root) {
		t.Errorf("checked at %v (timestamp %v), TSA chain %d long", sig.At, ts.Time, len(ts.Chain))
	}
	if _, err := catalog.VerifyTrust(signed, catalog.Trust{Roots: pki.Pool(), TSARoots: pki.Pool(), Time: later}); err == nil ||
		!strings.Contains(err.Error(), `the timestamp's server certificate "CN=Test TSA,O=rules_oemimage tests" is not trusted at`) {
		t.Errorf("timestamp chained to another root: %v", err)
	}
	// Now, with or without the TSA root, and the chain checked at the timestamp's time.
	if sig, err := catalog.VerifyTrust(signed, catalog.Trust{Roots: pki.Pool(), TSARoots: tsaRoots}); err != nil || sig.Timestamp.Chain == nil {
		t.Errorf("now, trusted timestamp: %v", err)
	}
	if sig, err := catalog.Verify(signed, pki.Pool()); err != nil || sig.Timestamp.Chain != nil {
		t.Errorf("now, no TSA roots: %v (the TSA chain is not checked)", err)
	}
	// No timestamp: TSARoots change nothing, an expired certificate stays refused.
	plain, _ := catalog.Sign(cat, pki.Leaf.Signer())
	if _, err := catalog.VerifyTrust(plain, catalog.Trust{Roots: pki.Pool(), TSARoots: tsaRoots, Time: later}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired signing certificate, no timestamp: %v", err)
	}
}
