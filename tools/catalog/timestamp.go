package catalog

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sassoftware/relic/v8/lib/pkcs7"
	"github.com/sassoftware/relic/v8/lib/pkcs9"
)

// RFC 3161 timestamping of catalog signatures.
//
// The token is requested over the SHA-256 of the signature value (the SignerInfo's
// encryptedDigest), with a nonce and certReq, as signtool /tr /td sha256 does, and attached to
// the SignerInfo as the unsigned attribute 1.3.6.1.4.1.311.3.3.1 (SPC_RFC3161_OBJID, relic's
// pkcs9.OidSpcTimeStampToken, written by pkcs9.TimestampAndMarshal with authenticode=true):
// the attribute signtool /tr and osslsigncode -ts write and Windows reads in Authenticode
// signatures, rather than CMS's id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14) or the legacy
// Microsoft counterSignature (signtool /t, osslsigncode -t), whose TSA protocol is SHA-1 only
// and unauthenticated (no nonce, no imprint algorithm).

// TimestampTimeout bounds one request to a timestamp server: connecting, sending the request
// and reading the whole response.
var TimestampTimeout = 60 * time.Second

// maxTimestampResponse bounds a timestamp server's response (a token with its TSA chain is a
// few kilobytes).
const maxTimestampResponse = 1 << 20

// CheckTimestampURL checks that u can name a timestamp server: an absolute http or https URL.
func CheckTimestampURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("timestamp URL %q: %v", u, err)
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("timestamp URL %q: expected an http:// or https:// URL of an RFC 3161 timestamp server", u)
	}
	return nil
}

// tsa is a pkcs9.Timestamper that asks one RFC 3161 server over HTTP, with a timeout and a
// response size limit, and checks what comes back before it is attached.
type tsa struct {
	url    string
	client *http.Client
}

func newTSA(u string) (*tsa, error) {
	if err := CheckTimestampURL(u); err != nil {
		return nil, err
	}
	return &tsa{url: u, client: &http.Client{Timeout: TimestampTimeout}}, nil
}

var pkiStatus = []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}

var pkiFailure = map[int]string{
	pkcs9.FailureBadAlg:              "badAlg",
	pkcs9.FailureBadRequest:          "badRequest",
	pkcs9.FailureBadDataFormat:       "badDataFormat",
	pkcs9.FailureTimeNotAvailable:    "timeNotAvailable",
	pkcs9.FailureUnacceptedPolicy:    "unacceptedPolicy",
	pkcs9.FailureUnacceptedExtension: "unacceptedExtension",
	pkcs9.FailureAddInfoNotAvailable: "addInfoNotAvailable",
	pkcs9.SystemFailure:              "systemFailure",
}

// Timestamp asks the server for a token over req's signature value.
func (c *tsa) Timestamp(ctx context.Context, req *pkcs9.Request) (*pkcs7.ContentInfoSignedData, error) {
	if req.Legacy {
		return nil, errors.New("legacy Microsoft timestamps are not supported")
	}
	d := req.Hash.New()
	d.Write(req.EncryptedDigest)
	msg, httpReq, err := pkcs9.NewRequest(c.url, req.Hash, d.Sum(nil))
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	httpReq = httpReq.WithContext(ctx)
	httpReq.Header.Set("Accept", "application/timestamp-reply")
	resp, err := c.client.Do(httpReq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // "Post "URL": ..." repeats the URL
			if ue.Timeout() {
				return nil, c.errorf("no response within %v", TimestampTimeout)
			}
			err = ue.Err
		}
		return nil, c.errorf("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTimestampResponse+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, c.errorf("reading the response: no complete response within %v", TimestampTimeout)
		}
		return nil, c.errorf("reading the response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.errorf("HTTP %s%s", resp.Status, excerpt(body))
	}
	if len(body) > maxTimestampResponse {
		return nil, c.errorf("the response is over the limit of %d bytes", maxTimestampResponse)
	}
	token, err := parseResponse(msg, body, resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	return token, nil
}

// parseResponse reads a TSA's response to msg: a TimeStampResp whose status grants a token
// checked by checkToken.
func parseResponse(msg *pkcs9.TimeStampReq, body []byte, contentType string) (*pkcs7.ContentInfoSignedData, error) {
	var tsr pkcs9.TimeStampResp
	if rest, err := asn1.Unmarshal(body, &tsr); err != nil || len(rest) != 0 {
		if err == nil {
			err = fmt.Errorf("%d bytes after it", len(rest))
		}
		if e := excerpt(body); e != "" {
			return nil, fmt.Errorf("not an RFC 3161 TimeStampResp (%d bytes, Content-Type %q)%s", len(body), contentType, e)
		}
		return nil, fmt.Errorf("not an RFC 3161 TimeStampResp (%d bytes, Content-Type %q): %v", len(body), contentType, err)
	}
	if s := tsr.Status; s.Status != pkcs9.StatusGranted && s.Status != pkcs9.StatusGrantedWithMods {
		return nil, fmt.Errorf("the server refused the request: %s", describeStatus(s))
	}
	token := &tsr.TimeStampToken
	if len(token.ContentType) == 0 {
		return nil, fmt.Errorf("status %s but no timestamp token", describeStatus(tsr.Status))
	}
	if err := checkToken(msg, token); err != nil {
		return nil, err
	}
	return token, nil
}
func (c *tsa) errorf(format string, args ...any) error {
	return fmt.Errorf("timestamp server %s: %s", c.url, fmt.Sprintf(format, args...))
}

// excerpt is the start of an error response's body, for the message, if it is text.
func excerpt(body []byte) string {
	const n = 200
	s := string(body)
	if len(s) > n {
		s = s[:n] + "..."
	}
	s = strings.Join(strings.Fields(s), " ")
	for _, r := range s {
		if r < ' ' || r == 0xfffd {
			return ""
		}
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

func describeStatus(s pkcs9.PKIStatusInfo) string {
	name := fmt.Sprintf("status %d", s.Status)
	if s.Status >= 0 && s.Status < len(pkiStatus) {
		name = fmt.Sprintf("status %d (%s)", s.Status, pkiStatus[s.Status])
	}
	var fails []string
	for bit := 0; bit < s.FailInfo.BitLength && bit < 64; bit++ {
		if s.FailInfo.At(bit) == 1 {
			if f, ok := pkiFailure[bit]; ok {
				fails = append(fails, f)
			} else {
				fails = append(fails, fmt.Sprintf("bit %d", bit))
			}
		}
	}
	if len(fails) > 0 {
		name += ", failure " + strings.Join(fails, ", ")
	}
	if len(s.StatusString) > 0 {
		name += fmt.Sprintf(", %q", strings.Join(s.StatusString, "; "))
	}
	return name
}

// checkToken checks a token against the request: its signature by a certificate it embeds,
// which must be a timestamping certificate; the nonce; the message imprint, algorithm and
// digest.
func checkToken(req *pkcs9.TimeStampReq, token *pkcs7.ContentInfoSignedData) error {
	if !token.ContentType.Equal(pkcs7.OidSignedData) || len(token.Content.SignerInfos) != 1 {
		return errors.New("the token is not a SignedData with one SignerInfo")
	}
	sig, err := token.Content.Verify(nil, false)
	if err != nil {
		return fmt.Errorf("the token's signature does not verify: %v", err)
	}
	if err := timestampingUsage(sig.Certificate); err != nil {
		return fmt.Errorf("the token's signing certificate %q: %v", sig.Certificate.Subject, err)
	}
	info, err := tokenInfo(token)
	if err != nil {
		return err
	}
	if info.Nonce == nil || req.Nonce.Cmp(info.Nonce) != 0 {
		return fmt.Errorf("the token's nonce %v is not the request's %v", info.Nonce, req.Nonce)
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(req.MessageImprint.HashAlgorithm.Algorithm) {
		return fmt.Errorf("the token's message imprint algorithm %v is not the request's %v", info.MessageImprint.HashAlgorithm.Algorithm, req.MessageImprint.HashAlgorithm.Algorithm)
	}
	if !bytes.Equal(info.MessageImprint.HashedMessage, req.MessageImprint.HashedMessage) {
		return fmt.Errorf("the token's message imprint %x is not the digest of this signature %x", info.MessageImprint.HashedMessage, req.MessageImprint.HashedMessage)
	}
	if _, err := info.SigningTime(); err != nil {
		return fmt.Errorf("the token's time: %v", err)
	}
	return nil
}

// tokenInfo is the TSTInfo a token signs.
func tokenInfo(token *pkcs7.ContentInfoSignedData) (*pkcs9.TSTInfo, error) {
	if !token.Content.ContentInfo.ContentType.Equal(pkcs9.OidTSTInfo) {
		return nil, fmt.Errorf("the token's content type %v is not TSTInfo", token.Content.ContentInfo.ContentType)
	}
	b, err := token.Content.ContentInfo.Bytes()
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("the token's TSTInfo: %v", err)
	}
	if b[0] == asn1.TagOctetString { // an OCTET STRING around the TSTInfo, as some servers write
		if _, err := asn1.Unmarshal(b, &b); err != nil {
			return nil, fmt.Errorf("the token's TSTInfo: %v", err)
		}
	}
	var info pkcs9.TSTInfo
	if rest, err := asn1.Unmarshal(b, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("the token's TSTInfo does not parse: %v", err)
	}
	return &info, nil
}

func timestampingUsage(c *x509.Certificate) error {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			return nil
		}
	}
	return errors.New("its extended key usages lack timeStamping (1.3.6.1.5.5.7.3.8)")
}

// timestamp countersigns psd's signature with a token from the server at u and returns the
// marshalled SignedData.
func timestamp(psd *pkcs7.ContentInfoSignedData, u string) ([]byte, error) {
	c, err := newTSA(u)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), TimestampTimeout)
	defer cancel()
	ts, err := pkcs9.TimestampAndMarshal(ctx, psd, c, true)
	if err != nil {
		return nil, err
	}
	return ts.Raw, nil
}

// Timestamp is a verified signature's RFC 3161 timestamp (or legacy countersignature).
type Timestamp struct {
	Time    time.Time         // the time the server vouches for
	Subject string            // the server's certificate subject
	Cert    *x509.Certificate // the server's certificate
	// Chain is the server's verified chain, leaf first, ending at one of Trust.TSARoots; nil
	// when it was not checked (no TSARoots).
	Chain []*x509.Certificate

	intermediates []*x509.Certificate // the other certificates the token embeds
}

// verifyTimestamp checks the timestamp of sig if it has one: the token's signature and that
// it timestamps sig's signature value. Nil without a timestamp.
func verifyTimestamp(sig pkcs7.Signature) (*Timestamp, error) {
	cs, err := pkcs9.VerifyPkcs7(sig)
	if err != nil {
		return nil, fmt.Errorf("catalog: the signature's timestamp does not verify: %v", err)
	}
	if cs == nil {
		return nil, nil
	}
	if err := timestampingUsage(cs.Certificate); err != nil {
		return nil, fmt.Errorf("catalog: the timestamp's signing certificate %q: %v", cs.Certificate.Subject, err)
	}
	return &Timestamp{Time: cs.SigningTime, Subject: cs.Certificate.Subject.String(), Cert: cs.Certificate, intermediates: cs.Intermediates}, nil
}

// verifyChain checks the server's certificate chain, through the certificates its token
// embeds, to one of roots, valid at the timestamp's time and for timeStamping.
func (ts *Timestamp) verifyChain(roots *x509.CertPool) error {
	pool := x509.NewCertPool()
	for _, c := range ts.intermediates {
		pool.AddCert(c)
	}
	chains, err := ts.Cert.Verify(x509.VerifyOptions{
		Intermediates: pool,
		Roots:         roots,
		CurrentTime:   ts.Time,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return fmt.Errorf("catalog: the timestamp's server certificate %q is not trusted at %s (the timestamp's time): %v", ts.Subject, ts.Time.UTC().Format(time.RFC3339), err)
	}
	ts.Chain = chains[0]
	return nil
}
