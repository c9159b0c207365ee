package awsorg

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerIdentity returns the ARN of the identity the backend's credentials
// belong to, from STS GetCallerIdentity (which no policy can deny): an
// IAM user (arn:aws:iam::123456789012:user/alice) or a role session
// (arn:aws:sts::123456789012:assumed-role/Ops/alice). It is not counted
// among the Organizations calls. Pointed at `orgguard sim serve`, the
// simulator answers for its management account.
func (b *Backend) CallerIdentity(ctx context.Context) (string, error) {
	out, err := b.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("asking STS who the caller is: %w", err)
	}
	arn := aws.ToString(out.Arn)
	if arn == "" {
		return "", fmt.Errorf("asking STS who the caller is: the answer names no ARN")
	}
	return arn, nil
}
