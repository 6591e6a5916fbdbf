package catalog

import (
	"crypto"
	"encoding/asn1"
	"testing"

	"github.com/sassoftware/relic/v8/lib/pkcs7"
	"github.com/sassoftware/relic/v8/lib/pkcs9"
)

// FuzzParseTimestampResponse feeds a TSA's response (untrusted bytes from the network) to
// parseResponse: it must refuse or accept without panicking.
func FuzzParseTimestampResponse(f *testing.F) {
	msg, _, err := pkcs9.NewRequest("http://tsa.invalid/", crypto.SHA256, make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	rejected, _ := asn1.Marshal(pkcs9.TimeStampResp{Status: pkcs9.PKIStatusInfo{Status: pkcs9.StatusRejection,
		StatusString: []string{"no"}, FailInfo: asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}}})
	granted, _ := asn1.Marshal(pkcs9.TimeStampResp{TimeStampToken: pkcs7.ContentInfoSignedData{ContentType: pkcs7.OidSignedData,
		Content: pkcs7.SignedData{Version: 3, SignerInfos: []pkcs7.SignerInfo{{Version: 1}}}}})
	for _, seed := range [][]byte{rejected, granted, nil, []byte("<html>"), {0x30, 0x03, 0x30, 0x01, 0x02}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if tok, err := parseResponse(msg, b, "application/timestamp-reply"); err == nil && tok == nil {
			t.Fatal("no error and no token")
		}
	})
}
