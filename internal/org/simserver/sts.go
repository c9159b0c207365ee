package simserver

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The simulator also answers the one STS operation orgguard needs to know
// who is acting, GetCallerIdentity, in the AWS Query protocol STS speaks: a
// form-encoded POST to / with Action=GetCallerIdentity, answered in XML.
// The caller is an IAM user of the management account named after the
// access key ID of the request's SigV4 Authorization header (the
// simulator verifies no signature), so that two people pointing their
// tools at one simulator with different keys are two identities.

// stsNamespace is the XML namespace of STS responses.
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// isQueryRequest reports whether r is an AWS Query protocol request (STS)
// rather than AWS JSON (Organizations).
func isQueryRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") == "" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// credentialKey finds the access key ID in a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260601/us-east-1/sts/aws4_request, ...".
var credentialKey = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// iamName keeps the characters an IAM user name may hold.
var iamName = regexp.MustCompile(`[^\w+=,.@-]`)

// callerName returns the simulated IAM user name for r.
func callerName(r *http.Request) string {
	m := credentialKey.FindStringSubmatch(r.Header.Get("Authorization"))
	name := ""
	if m != nil {
		name = iamName.ReplaceAllString(m[1], "")
	}
	if name == "" {
		name = "sim-user"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// serveQuery answers an STS request.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, reqID string) (int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		return writeQueryError(w, reqID, http.StatusBadRequest, "InvalidRequest", "reading the request body: "+err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return writeQueryError(w, reqID, http.StatusBadRequest, "MalformedQueryString", "the request body is not a form")
	}
	if a := form.Get("Action"); a != "GetCallerIdentity" {
		return writeQueryError(w, reqID, http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("the simulator serves the STS action GetCallerIdentity only, not %q", a))
	}
	o, err := s.src.DescribeOrganization(r.Context())
	if err != nil || o.ManagementAccountID == "" {
		if err == nil {
			err = errors.New("the simulated organization has no management account")
		}
		s.log.Error("answering GetCallerIdentity", "request_id", reqID, "error", err)
		return writeQueryError(w, reqID, http.StatusInternalServerError, "InternalFailure", "internal error in the simulator (request "+reqID+")")
	}
	name := callerName(r)
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	type response struct {
		XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Result    result   `xml:"GetCallerIdentityResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}
	out, err := xml.Marshal(response{Xmlns: stsNamespace, RequestID: reqID, Result: result{
		Arn: "arn:aws:iam::" + o.ManagementAccountID + ":user/" + name, UserID: "AIDASIM" + strings.ToUpper(name), Account: o.ManagementAccountID}})
	if err != nil {
		return writeQueryError(w, reqID, http.StatusInternalServerError, "InternalFailure", "encoding the answer")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append([]byte(xml.Header), out...))
	return http.StatusOK, ""
}

// writeQueryError answers with an AWS Query protocol error.
func writeQueryError(w http.ResponseWriter, reqID string, status int, code, msg string) (int, string) {
	type errBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type response struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errBody  `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	out, _ := xml.Marshal(response{Xmlns: stsNamespace, Error: errBody{Type: kind, Code: code, Message: msg}, RequestID: reqID})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(out)
	return status, code
}
