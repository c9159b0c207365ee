package awsorg

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/orgguard/orgguard/internal/org"
)

// apiError converts an error returned by the SDK into an *org.APIError when
// it is an AWS error response (code, message, reason, request ID), wrapped
// with what was being done. Other errors (network, context) are wrapped
// unchanged.
func apiError(doing string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	out := &org.APIError{Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Reason: reasonOf(err)}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		out.RequestID = re.ServiceRequestID()
	}
	return fmt.Errorf("%s: %w", doing, out)
}

// reasonOf returns the Reason member of the Organizations exceptions that
// carry one.
func reasonOf(err error) string {
	var cv *types.ConstraintViolationException
	if errors.As(err, &cv) {
		return string(cv.Reason)
	}
	var ii *types.InvalidInputException
	if errors.As(err, &ii) {
		return string(ii.Reason)
	}
	var ad *types.AccessDeniedForDependencyException
	if errors.As(err, &ad) {
		return string(ad.Reason)
	}
	var hc *types.HandshakeConstraintViolationException
	if errors.As(err, &hc) {
		return string(hc.Reason)
	}
	return ""
}
