package generate

import (
	"encoding/json"
	"fmt"
	"slices"
)

// document and statement give policy JSON the usual field order.
type document struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal,omitempty"`
	Action    any                       `json:"Action,omitempty"`
	NotAction any                       `json:"NotAction,omitempty"`
	Resource  any                       `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

func render(stmts ...statement) string {
	data, err := json.MarshalIndent(document{Version: "2012-10-17", Statement: stmts}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("generate: encoding a policy: %v", err)) // plain values only
	}
	return string(data)
}

// adminException is the principal exception most guardrails carry: the
// organization's administration and break-glass roles are exempt.
func adminException() map[string]any {
	return map[string]any{"aws:PrincipalArn": []string{
		"arn:aws:iam::*:role/OrgAdmin",
		"arn:aws:iam::*:role/BreakGlass",
	}}
}

// globalServices are the services whose calls go to us-east-1 (or another
// fixed region) whatever region the caller works in; region locks exempt them.
var globalServices = []string{
	"a4b:*", "account:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*",
	"aws-portal:*", "budgets:*", "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*",
	"directconnect:*", "ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways",
	"fms:*", "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "kms:*",
	"mobileanalytics:*", "networkmanager:*", "organizations:*", "pricing:*", "route53:*",
	"route53domains:*", "route53-recovery-cluster:*", "route53-recovery-control-config:*",
	"route53-recovery-readiness:*", "s3:GetAccountPublic*", "s3:ListAllMyBuckets",
	"s3:ListMultiRegionAccessPoints", "s3:PutAccountPublic*", "shield:*", "sts:*",
	"support:*", "trustedadvisor:*", "waf-regional:*", "waf:*", "wafv2:*", "wellarchitected:*",
}

func regionLock(regions []string) string {
	return render(statement{
		Sid:       "DenyOutsideApprovedRegions",
		Effect:    "Deny",
		NotAction: globalServices,
		Resource:  "*",
		Condition: map[string]map[string]any{
			"StringNotEquals": {"aws:RequestedRegion": regions},
			"ArnNotLike":      adminException(),
		},
	})
}

func denyLeaveOrganization() string {
	return render(statement{
		Sid:      "DenyLeavingTheOrganization",
		Effect:   "Deny",
		Action:   []string{"organizations:LeaveOrganization"},
		Resource: "*",
	})
}

func denyRootUser() string {
	return render(statement{
		Sid:      "DenyRootUserActions",
		Effect:   "Deny",
		Action:   "*",
		Resource: "*",
		Condition: map[string]map[string]any{
			"ArnLike": {"aws:PrincipalArn": []string{"arn:aws:iam::*:root"}},
		},
	})
}

func protectSecurityServices() string {
	return render(
		statement{
			Sid:    "ProtectCloudTrail",
			Effect: "Deny",
			Action: []string{"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
				"cloudtrail:PutEventSelectors", "cloudtrail:DeleteEventDataStore"},
			Resource:  "*",
			Condition: map[string]map[string]any{"ArnNotLike": adminException()},
		},
		statement{
			Sid:    "ProtectGuardDuty",
			Effect: "Deny",
			Action: []string{"guardduty:DeleteDetector", "guardduty:DisassociateFromMasterAccount",
				"guardduty:DisassociateFromAdministratorAccount", "guardduty:UpdateDetector",
				"guardduty:StopMonitoringMembers", "guardduty:DeleteMembers"},
			Resource:  "*",
			Condition: map[string]map[string]any{"ArnNotLike": adminException()},
		},
		statement{
			Sid:    "ProtectConfig",
			Effect: "Deny",
			Action: []string{"config:DeleteConfigurationRecorder", "config:StopConfigurationRecorder",
				"config:DeleteDeliveryChannel", "config:DeleteConfigRule", "config:DeleteAggregationAuthorization"},
			Resource:  "*",
			Condition: map[string]map[string]any{"ArnNotLike": adminException()},
		},
	)
}

func denyIAMUsers() string {
	return render(statement{
		Sid:       "DenyLongLivedCredentials",
		Effect:    "Deny",
		Action:    []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func requireIMDSv2() string {
	return render(
		statement{
			Sid:       "RequireImdsV2",
			Effect:    "Deny",
			Action:    "ec2:RunInstances",
			Resource:  "arn:aws:ec2:*:*:instance/*",
			Condition: map[string]map[string]any{"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
		},
		statement{
			Sid:       "DenyImdsV1Downgrade",
			Effect:    "Deny",
			Action:    "ec2:ModifyInstanceMetadataOptions",
			Resource:  "*",
			Condition: map[string]map[string]any{"ArnNotLike": adminException()},
		},
	)
}

func denyPublicS3() string {
	return render(statement{
		Sid:       "KeepS3BlockPublicAccess",
		Effect:    "Deny",
		Action:    []string{"s3:PutAccountPublicAccessBlock", "s3:DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func denyUnencryptedVolumes() string {
	return render(
		statement{
			Sid:       "DenyUnencryptedEbs",
			Effect:    "Deny",
			Action:    "ec2:CreateVolume",
			Resource:  "*",
			Condition: map[string]map[string]any{"Bool": {"ec2:Encrypted": "false"}},
		},
		statement{
			Sid:       "DenyUnencryptedRds",
			Effect:    "Deny",
			Action:    []string{"rds:CreateDBInstance", "rds:CreateDBCluster"},
			Resource:  "*",
			Condition: map[string]map[string]any{"Bool": {"rds:StorageEncrypted": "false"}},
		},
	)
}

func denyExpensiveInstances() string {
	return render(statement{
		Sid:      "DenyLargeInstanceTypes",
		Effect:   "Deny",
		Action:   "ec2:RunInstances",
		Resource: "arn:aws:ec2:*:*:instance/*",
		Condition: map[string]map[string]any{
			"StringLike": {"ec2:InstanceType": []string{"*.metal*", "p3.*", "p4d.*", "p5.*", "x2*", "u-*", "*.24xlarge", "*.32xlarge", "*.48xlarge"}},
		},
	})
}

func requireCostTags() string {
	return render(statement{
		Sid:       "RequireCostCenterTag",
		Effect:    "Deny",
		Action:    []string{"ec2:RunInstances", "ec2:CreateVolume", "rds:CreateDBInstance"},
		Resource:  "*",
		Condition: map[string]map[string]any{"Null": {"aws:RequestTag/CostCenter": "true"}},
	})
}

func sandboxAllowList() string {
	return render(statement{
		Sid:    "AllowOnlySandboxServices",
		Effect: "Allow",
		Action: []string{"cloudformation:*", "cloudwatch:*", "dynamodb:*", "ec2:*", "ecr:*", "ecs:*",
			"iam:Get*", "iam:List*", "iam:PassRole", "lambda:*", "logs:*", "s3:*", "sns:*", "sqs:*",
			"ssm:*", "sts:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "apigateway:*", "events:*", "states:*"},
		Resource: "*",
	})
}

func regulatedAllowList() string {
	return render(statement{
		Sid:    "AllowApprovedServicesOnly",
		Effect: "Allow",
		Action: []string{"acm:*", "athena:*", "autoscaling:*", "backup:*", "cloudformation:*", "cloudtrail:*",
			"cloudwatch:*", "config:*", "dynamodb:*", "ec2:*", "ecr:*", "ecs:*", "eks:*", "elasticloadbalancing:*",
			"events:*", "glue:*", "guardduty:*", "iam:*", "kms:*", "lambda:*", "logs:*", "organizations:Describe*",
			"organizations:List*", "rds:*", "route53:*", "s3:*", "secretsmanager:*", "securityhub:*", "sns:*",
			"sqs:*", "ssm:*", "sts:*", "support:*", "tag:*"},
		Resource: "*",
	})
}

func denyAll() string {
	return render(statement{Sid: "DenyEverything", Effect: "Deny", Action: "*", Resource: "*"})
}

func denyNetworkChanges() string {
	return render(statement{
		Sid:    "OnlyNetworkTeamChangesTheNetwork",
		Effect: "Deny",
		Action: []string{"ec2:CreateVpc", "ec2:DeleteVpc", "ec2:CreateInternetGateway", "ec2:AttachInternetGateway",
			"ec2:CreateNatGateway", "ec2:CreateVpcPeeringConnection", "ec2:AcceptVpcPeeringConnection",
			"ec2:CreateTransitGatewayVpcAttachment", "ec2:DeleteTransitGateway", "directconnect:*"},
		Resource: "*",
		Condition: map[string]map[string]any{"ArnNotLike": {"aws:PrincipalArn": []string{
			"arn:aws:iam::*:role/NetworkAdmin", "arn:aws:iam::*:role/OrgAdmin",
		}}},
	})
}

func denyKeyDeletion() string {
	return render(statement{
		Sid:       "ProtectKmsKeys",
		Effect:    "Deny",
		Action:    []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func denyExternalSharing() string {
	return render(statement{
		Sid:       "DenyRamSharingOutsideOrg",
		Effect:    "Deny",
		Action:    []string{"ram:CreateResourceShare", "ram:UpdateResourceShare"},
		Resource:  "*",
		Condition: map[string]map[string]any{"Bool": {"ram:RequestedAllowsExternalPrincipals": "true"}},
	})
}

func denyBillingChanges() string {
	return render(statement{
		Sid:       "DenyBillingAndAccountChanges",
		Effect:    "Deny",
		Action:    []string{"aws-portal:Modify*", "account:CloseAccount", "account:PutAlternateContact", "account:DeleteAlternateContact", "billing:Put*", "payments:*"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func denyMarketplace() string {
	return render(statement{
		Sid:      "DenyMarketplaceSubscriptions",
		Effect:   "Deny",
		Action:   []string{"aws-marketplace:Subscribe", "aws-marketplace:AcceptAgreementRequest", "aws-marketplace:CreatePrivateMarketplaceRequests"},
		Resource: "*",
	})
}

func protectBackups() string {
	return render(statement{
		Sid:       "ProtectBackupVaults",
		Effect:    "Deny",
		Action:    []string{"backup:DeleteBackupVault", "backup:DeleteRecoveryPoint", "backup:PutBackupVaultAccessPolicy", "backup:DeleteBackupVaultLockConfiguration", "backup:UpdateRecoveryPointLifecycle"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func protectSecurityHub() string {
	return render(statement{
		Sid:       "ProtectSecurityHubAndAccessAnalyzer",
		Effect:    "Deny",
		Action:    []string{"securityhub:DisableSecurityHub", "securityhub:DeleteMembers", "securityhub:DisassociateFromAdministratorAccount", "access-analyzer:DeleteAnalyzer", "macie2:DisableMacie"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException()},
	})
}

func denyProdDataDeletion() string {
	return render(statement{
		Sid:       "ProtectProductionData",
		Effect:    "Deny",
		Action:    []string{"s3:DeleteBucket", "rds:DeleteDBInstance", "rds:DeleteDBCluster", "dynamodb:DeleteTable", "dynamodb:DeleteBackup"},
		Resource:  "*",
		Condition: map[string]map[string]any{"ArnNotLike": adminException(), "StringEquals": {"aws:ResourceTag/Environment": "prod"}},
	})
}

func denyAIServices() string {
	return render(statement{
		Sid:      "DenyGenerativeAIUntilApproved",
		Effect:   "Deny",
		Action:   []string{"bedrock:*", "sagemaker:CreateEndpoint", "q:*"},
		Resource: "*",
	})
}

// ---- RCPs -----------------------------------------------------------------

func rcpEnforceTLS() string {
	return render(statement{
		Sid:       "EnforceSecureTransport",
		Effect:    "Deny",
		Principal: "*",
		Action:    []string{"s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:*"},
		Resource:  "*",
		Condition: map[string]map[string]any{"BoolIfExists": {"aws:SecureTransport": "false"}},
	})
}

func rcpDenyExternalAccess(orgID string) string {
	return render(statement{
		Sid:       "DenyAccessFromOutsideTheOrganization",
		Effect:    "Deny",
		Principal: "*",
		Action:    []string{"s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:AssumeRole"},
		Resource:  "*",
		Condition: map[string]map[string]any{
			"StringNotEqualsIfExists": {"aws:PrincipalOrgID": orgID},
			"BoolIfExists":            {"aws:PrincipalIsAWSService": "false"},
		},
	})
}

func rcpProtectKMS(orgID string) string {
	return render(statement{
		Sid:       "DenyKeyUseOutsideTheOrganization",
		Effect:    "Deny",
		Principal: "*",
		Action:    []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*", "kms:CreateGrant"},
		Resource:  "*",
		Condition: map[string]map[string]any{
			"StringNotEqualsIfExists": {"aws:PrincipalOrgID": orgID},
			"BoolIfExists":            {"aws:PrincipalIsAWSService": "false"},
		},
	})
}

// regionSets are the region groups customers are locked to.
var regionSets = []struct {
	name    string
	regions []string
}{
	{"eu", []string{"eu-west-1", "eu-central-1", "eu-west-3"}},
	{"us", []string{"us-east-1", "us-east-2", "us-west-2"}},
	{"apac", []string{"ap-southeast-1", "ap-southeast-2", "ap-northeast-1"}},
	{"uk", []string{"eu-west-2", "eu-west-1"}},
	{"ca", []string{"ca-central-1", "us-east-1"}},
}

// customerGuardrail writes a customer-specific SCP: a few deny statements
// chosen from a pool, so that customers differ.
func customerGuardrail(slug string, pick func(n int) int) string {
	pool := []statement{
		{Sid: "DenyDirectConnect", Effect: "Deny", Action: "directconnect:*", Resource: "*"},
		{Sid: "DenyRedshiftPublic", Effect: "Deny", Action: []string{"redshift:ModifyCluster", "redshift:CreateCluster"}, Resource: "*",
			Condition: map[string]map[string]any{"Bool": {"redshift:PubliclyAccessible": "true"}}},
		{Sid: "DenyLightsail", Effect: "Deny", Action: "lightsail:*", Resource: "*"},
		{Sid: "DenyWorkspaces", Effect: "Deny", Action: "workspaces:*", Resource: "*"},
		{Sid: "ProtectCustomerRoles", Effect: "Deny", Action: []string{"iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"},
			Resource:  []string{"arn:aws:iam::*:role/" + slug + "-*"},
			Condition: map[string]map[string]any{"ArnNotLike": adminException()}},
		{Sid: "DenyGameLift", Effect: "Deny", Action: "gamelift:*", Resource: "*"},
		{Sid: "DenyPublicAmis", Effect: "Deny", Action: "ec2:ModifyImageAttribute", Resource: "*",
			Condition: map[string]map[string]any{"StringEquals": {"ec2:Add/group": "all"}}},
	}
	n := 1 + pick(3)
	var picked []statement
	idx := make([]int, len(pool))
	for i := range idx {
		idx[i] = i
	}
	for range n {
		j := pick(len(idx))
		picked = append(picked, pool[idx[j]])
		idx = slices.Delete(idx, j, j+1)
	}
	slices.SortFunc(picked, func(a, b statement) int {
		if a.Sid < b.Sid {
			return -1
		}
		return 1
	})
	return render(picked...)
}
