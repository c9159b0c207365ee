package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small real SMTP server on 127.0.0.1 (RFC 5321 with the
// STARTTLS extension of RFC 3207 and AUTH PLAIN of RFC 4954) that records
// the mail it accepts. It refuses MAIL before STARTTLS, as a relay
// requiring TLS does.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	pool     *x509.CertPool
	password string
	reject   string // a recipient answered 550

	mu    sync.Mutex
	mails []smtpMail
	auths []string
}

type smtpMail struct {
	From string
	To   []string
	Data string
	TLS  bool
}

func newSMTPServer(t *testing.T, password string) *smtpServer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, pool: pool, password: password,
		tls: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 127.0.0.1 ESMTP test")
	secure := false
	var m smtpMail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if secure {
				tp.PrintfLine("250-127.0.0.1\r\n250-AUTH PLAIN\r\n250 8BITMIME")
			} else {
				tp.PrintfLine("250-127.0.0.1\r\n250-STARTTLS\r\n250 8BITMIME")
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			_, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			parts := strings.Split(string(raw), "\x00")
			s.mu.Lock()
			s.auths = append(s.auths, string(raw))
			s.mu.Unlock()
			if len(parts) == 3 && parts[2] == s.password {
				tp.PrintfLine("235 ok")
			} else {
				tp.PrintfLine("535 authentication failed")
			}
		case "MAIL":
			if !secure {
				tp.PrintfLine("530 must issue STARTTLS first")
				continue
			}
			m = smtpMail{From: arg, TLS: secure}
			tp.PrintfLine("250 ok")
		case "RCPT":
			if s.reject != "" && strings.Contains(arg, s.reject) {
				tp.PrintfLine("550 5.1.1 no such user")
				continue
			}
			m.To = append(m.To, arg)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(data)
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "RSET", "NOOP":
			tp.PrintfLine("250 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 unknown command")
		}
	}
}

func TestEmailOverSTARTTLS(t *testing.T) {
	srv := newSMTPServer(t, "smtp-pa55word")
	cfg := SMTP{Host: "127.0.0.1", Port: srv.port(), Username: "orgguard", From: "orgguard@example.com", To: []string{"oncall@example.com"}}
	e := NewEmail("mail", cfg, "smtp-pa55word", &tls.Config{RootCAs: srv.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	m := testMessage
	m.Kind, m.To, m.Customer, m.Lang = KindCustomerNotice, []string{"ops@acme.example"}, "Acme", "ja"
	m.Title = "【重大】お客様のAWSアカウントに影響する障害"
	if err := e.Send(context.Background(), Delivery{Key: "customer.notice:incident-1:1:Acme@mail", Message: m}); err != nil {
		t.Fatalf("Send = %v", err)
	}
	srv.mu.Lock()
	mails := srv.mails
	srv.mu.Unlock()
	if len(mails) != 1 || !mails[0].TLS || len(mails[0].To) != 1 || !strings.Contains(mails[0].To[0], "ops@acme.example") {
		t.Fatalf("mails = %+v, want one to the customer's own contact, over TLS", mails)
	}
	data := mails[0].Data
	wantID := MessageID("customer.notice:incident-1:1:Acme@mail", cfg.From)
	for _, want := range []string{"Message-ID: <" + wantID + ">", HeaderMailIdempotency + ": customer.notice:incident-1:1:Acme@mail", "=?UTF-8?q?=E3=80=90"} {
		if !strings.Contains(data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, data)
		}
	}
	t.Run("the same key gives the same Message-ID", func(t *testing.T) {
		a, again, other := MessageID("k", "a@b.example"), MessageID("k", "a@b.example"), MessageID("k2", "a@b.example")
		if a != again || a == other {
			t.Error("MessageID is not a function of the key")
		}
	})
	t.Run("a refused recipient is permanent", func(t *testing.T) {
		srv.reject = "nobody@"
		m.To = []string{"nobody@acme.example"}
		err := e.Send(context.Background(), Delivery{Key: "k2", Message: m})
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("Send to a refused recipient = %v, want permanent", err)
		}
	})
	t.Run("a wrong password fails without showing it", func(t *testing.T) {
		bad := NewEmail("mail", cfg, "wrong-pa55word", &tls.Config{RootCAs: srv.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		err := bad.Send(context.Background(), Delivery{Key: "k3", Message: testMessage})
		if err == nil || strings.Contains(err.Error(), "wrong-pa55word") {
			t.Errorf("Send with a wrong password = %v", err)
		}
	})
	t.Run("a server whose certificate is not trusted is refused", func(t *testing.T) {
		untrusted := NewEmail("mail", cfg, "smtp-pa55word", &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		if err := untrusted.Send(context.Background(), Delivery{Key: "k4", Message: testMessage}); err == nil {
			t.Error("Send to an untrusted server = nil")
		}
	})
}
