package awsprobe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// session is the probe role assumed in one account for one Probe call,
// with the clients that act as it, made when first needed. A session is
// used by one goroutine.
type session struct {
	p     *Prober
	role  string
	creds aws.CredentialsProvider
	err   error // the role could not be assumed

	iamc  *iam.Client
	stsc  *sts.Client
	orgsc *organizations.Client
}

func (s *session) iam() *iam.Client {
	if s.iamc == nil {
		s.iamc = iam.NewFromConfig(s.p.cfg, func(o *iam.Options) { o.Credentials = s.creds; s.p.endpointOption(o) })
	}
	return s.iamc
}

func (s *session) sts() *sts.Client {
	if s.stsc == nil {
		s.stsc = sts.NewFromConfig(s.p.cfg, func(o *sts.Options) { o.Credentials = s.creds; s.p.endpointOption(o) })
	}
	return s.stsc
}

func (s *session) orgs() *organizations.Client {
	if s.orgsc == nil {
		s.orgsc = organizations.NewFromConfig(s.p.cfg, func(o *organizations.Options) { o.Credentials = s.creds; s.p.endpointOption(o) })
	}
	return s.orgsc
}

// assume assumes role with the caller's credentials. The AssumeRole call
// is made by the caller (the management account is not subject to SCPs),
// but RCPs on sts:AssumeRole in the role's account do apply to it.
func (p *Prober) assume(ctx context.Context, role string) *session {
	s := &session{p: p, role: role}
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(role),
		RoleSessionName: aws.String(p.opts.SessionName),
		DurationSeconds: aws.Int32(int32(p.opts.SessionDuration / time.Second)),
	}
	if p.opts.ExternalID != "" {
		in.ExternalId = aws.String(p.opts.ExternalID)
	}
	out, err := p.sts.AssumeRole(cctx, in)
	if err != nil {
		s.err = fmt.Errorf("assuming the probe role %s: %w%s", role, err, errRequestSuffix(err, requestIDOf(err)))
		return s
	}
	if out.Credentials == nil || out.Credentials.AccessKeyId == nil || out.Credentials.SecretAccessKey == nil {
		s.err = fmt.Errorf("assuming the probe role %s: the response carries no credentials%s", role, requestSuffix(requestIDOfOutput(out.ResultMetadata)))
		return s
	}
	c := aws.Credentials{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Source:          "orgguard-probe AssumeRole " + role,
	}
	s.creds = staticCreds(c)
	return s
}

// staticCreds hands out the assumed credentials. They are not refreshed: a
// session lasts at least 15 minutes and serves one Probe call; once it
// expires, calls fail with an expired-token error, reported per check.
type staticCreds aws.Credentials

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(c), nil
}

// errorCode returns the AWS error code and message of err, or "" and
// err's text when it carries none.
func errorCode(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", err.Error()
}

// requestIDOf returns the AWS request id an error carries, or "".
func requestIDOf(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	var raw *rawError
	if errors.As(err, &raw) {
		return raw.requestID
	}
	return ""
}

func requestIDOfOutput(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// readCall is the cheap read API call that observes an action: its name
// for reports and the call, which returns the request id.
type readCall struct {
	name string
	call func(ctx context.Context, p *Prober, s *session) (string, error)
}

// readCalls maps lower-case actions to the read calls that observe them:
// each call is authorized by exactly that action, reads little and
// changes nothing. sts:GetCallerIdentity is deliberately absent: no
// policy can deny it, so calling it observes nothing.
var readCalls = map[string]readCall{
	"sts:assumerole": {"sts AssumeRole (the probe role assumes itself)", func(ctx context.Context, p *Prober, s *session) (string, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(s.role), RoleSessionName: aws.String(p.opts.SessionName + "-chained"),
			DurationSeconds: aws.Int32(int32(DefaultSessionDuration / time.Second))}
		if p.opts.ExternalID != "" {
			in.ExternalId = aws.String(p.opts.ExternalID)
		}
		out, err := s.sts().AssumeRole(ctx, in)
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"iam:listroles": {"iam ListRoles (MaxItems 1)", func(ctx context.Context, _ *Prober, s *session) (string, error) {
		out, err := s.iam().ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"iam:listusers": {"iam ListUsers (MaxItems 1)", func(ctx context.Context, _ *Prober, s *session) (string, error) {
		out, err := s.iam().ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1)})
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"iam:listaccountaliases": {"iam ListAccountAliases", func(ctx context.Context, _ *Prober, s *session) (string, error) {
		out, err := s.iam().ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"iam:getaccountsummary": {"iam GetAccountSummary", func(ctx context.Context, _ *Prober, s *session) (string, error) {
		out, err := s.iam().GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"organizations:describeorganization": {"organizations DescribeOrganization", func(ctx context.Context, _ *Prober, s *session) (string, error) {
		out, err := s.orgs().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			return "", err
		}
		return requestIDOfOutput(out.ResultMetadata), nil
	}},
	"ec2:describeregions": {"ec2 DescribeRegions", func(ctx context.Context, p *Prober, s *session) (string, error) {
		return p.doRaw(ctx, s.creds, rawCall{service: "ec2", method: http.MethodPost,
			query: url.Values{"Action": {"DescribeRegions"}, "Version": {"2016-11-15"}}})
	}},
	"s3:listallmybuckets": {"s3 ListBuckets (max-buckets 1)", func(ctx context.Context, p *Prober, s *session) (string, error) {
		return p.doRaw(ctx, s.creds, rawCall{service: "s3", method: http.MethodGet,
			query: url.Values{"max-buckets": {"1"}}})
	}},
}

// ReadCallActions lists the actions observed by a real read call (the
// others go to the policy simulator), lower-cased.
func ReadCallActions() []string {
	out := make([]string, 0, len(readCalls))
	for a := range readCalls {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
