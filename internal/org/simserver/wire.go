package simserver

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// Wire shapes of the Organizations API reference (AWS JSON 1.1 member
// names). https://docs.aws.amazon.com/organizations/latest/APIReference/API_Types.html

// epochSeconds is a timestamp in the AWS JSON default format: seconds since
// the epoch as a JSON number, here with millisecond precision.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

type wireAccount struct {
	Arn             string       `json:"Arn"`
	Email           string       `json:"Email"`
	Id              string       `json:"Id"`
	JoinedMethod    string       `json:"JoinedMethod"`
	JoinedTimestamp epochSeconds `json:"JoinedTimestamp"`
	Name            string       `json:"Name"`
	Status          string       `json:"Status"`
	State           string       `json:"State"`
}

func toAccount(a org.Account) wireAccount {
	state := a.Status
	if a.Status == org.AccountSuspended && !a.ClosedAt.IsZero() {
		state = "CLOSED" // closed with CloseAccount: Status SUSPENDED, State CLOSED
	}
	return wireAccount{
		Arn: a.ARN, Email: a.Email, Id: a.ID, JoinedMethod: "CREATED", JoinedTimestamp: epochSeconds(a.JoinedAt),
		Name: a.Name, Status: a.Status, State: state,
	}
}

type wireOU struct {
	Arn  string `json:"Arn"`
	Id   string `json:"Id"`
	Name string `json:"Name"`
}

func toOU(u org.OU) wireOU { return wireOU{Arn: u.ARN, Id: u.ID, Name: u.Name} }

type wirePolicyTypeSummary struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

type wireRoot struct {
	Arn         string                  `json:"Arn"`
	Id          string                  `json:"Id"`
	Name        string                  `json:"Name"`
	PolicyTypes []wirePolicyTypeSummary `json:"PolicyTypes"`
}

func toRoot(r org.Root) wireRoot {
	w := wireRoot{Arn: r.ARN, Id: r.ID, Name: r.Name, PolicyTypes: []wirePolicyTypeSummary{}}
	for _, p := range r.PolicyTypes {
		w.PolicyTypes = append(w.PolicyTypes, wirePolicyTypeSummary{Type: string(p.Type), Status: p.Status})
	}
	return w
}

type wirePolicySummary struct {
	Arn         string `json:"Arn"`
	AwsManaged  bool   `json:"AwsManaged"`
	Description string `json:"Description"`
	Id          string `json:"Id"`
	Name        string `json:"Name"`
	Type        string `json:"Type"`
}

func toPolicySummary(p org.Policy) wirePolicySummary {
	return wirePolicySummary{Arn: p.ARN, AwsManaged: p.AWSManaged, Description: p.Description, Id: p.ID, Name: p.Name, Type: string(p.Type)}
}

type wirePolicy struct {
	Content       string            `json:"Content"`
	PolicySummary wirePolicySummary `json:"PolicySummary"`
}

func toPolicy(p org.Policy) wirePolicy {
	return wirePolicy{Content: p.Content, PolicySummary: toPolicySummary(p)}
}

type wireTarget struct {
	Arn      string `json:"Arn"`
	Name     string `json:"Name"`
	TargetId string `json:"TargetId"`
	Type     string `json:"Type"`
}

type wireChild struct {
	Id   string `json:"Id"`
	Type string `json:"Type"`
}

type wireTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func toTags(m map[string]string) []wireTag {
	out := make([]wireTag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, wireTag{Key: k, Value: m[k]})
	}
	return out
}

type wireOrganization struct {
	Arn                string `json:"Arn"`
	FeatureSet         string `json:"FeatureSet"`
	Id                 string `json:"Id"`
	MasterAccountArn   string `json:"MasterAccountArn"`
	MasterAccountEmail string `json:"MasterAccountEmail"`
	MasterAccountId    string `json:"MasterAccountId"`
}

// policyTypes are the values of the PolicyType enum.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListPolicies.html
var policyTypes = []string{
	"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "DECLARATIVE_POLICY_EC2", "BACKUP_POLICY",
	"TAG_POLICY", "CHATBOT_POLICY", "AISERVICES_OPT_OUT_POLICY", "SECURITYHUB_POLICY",
}
