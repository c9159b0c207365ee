package simserver

import (
	"context"
	"slices"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// The account lifecycle: CreateAccount and DescribeCreateAccountStatus,
// CloseAccount, RemoveAccountFromOrganization, and invitations
// (InviteAccountToOrganization, ListHandshakesForOrganization).

// lifecycleSource is the part of Source these operations use.
type lifecycleSource interface {
	CreateAccount(ctx context.Context, spec sim.AccountSpec) (org.CreateAccountStatus, error)
	DescribeCreateAccountStatus(ctx context.Context, requestID string) (org.CreateAccountStatus, error)
	CloseAccount(ctx context.Context, accountID string) error
	RemoveAccountFromOrganization(ctx context.Context, accountID string) error
	InviteAccountToOrganization(ctx context.Context, targetID, targetType, notes string, tags map[string]string) (org.Handshake, error)
	ListHandshakesForOrganization(ctx context.Context, action, parentHandshakeID string) ([]org.Handshake, error)
}

type (
	createAccountIn struct {
		Email                  *string   `json:"Email"`
		AccountName            *string   `json:"AccountName"`
		RoleName               *string   `json:"RoleName"`
		IamUserAccessToBilling *string   `json:"IamUserAccessToBilling"`
		Tags                   []wireTag `json:"Tags"`
	}
	createAccountStatusIn struct {
		CreateAccountRequestId *string `json:"CreateAccountRequestId"`
	}
	inviteIn struct {
		Target *struct {
			Id   *string `json:"Id"`
			Type *string `json:"Type"`
		} `json:"Target"`
		Notes *string   `json:"Notes"`
		Tags  []wireTag `json:"Tags"`
	}
	listHandshakesIn struct {
		pageReq
		Filter *struct {
			ActionType        *string `json:"ActionType"`
			ParentHandshakeId *string `json:"ParentHandshakeId"`
		} `json:"Filter"`
	}
)

type wireCreateAccountStatus struct {
	AccountId          string        `json:"AccountId,omitempty"`
	AccountName        string        `json:"AccountName"`
	CompletedTimestamp *epochSeconds `json:"CompletedTimestamp,omitempty"`
	FailureReason      string        `json:"FailureReason,omitempty"`
	Id                 string        `json:"Id"`
	RequestedTimestamp epochSeconds  `json:"RequestedTimestamp"`
	State              string        `json:"State"`
}

func toCreateAccountStatus(c org.CreateAccountStatus) wireCreateAccountStatus {
	w := wireCreateAccountStatus{AccountId: c.AccountID, AccountName: c.AccountName, FailureReason: c.FailureReason,
		Id: c.ID, RequestedTimestamp: epochSeconds(c.RequestedAt), State: c.State}
	if !c.CompletedAt.IsZero() {
		t := epochSeconds(c.CompletedAt)
		w.CompletedTimestamp = &t
	}
	return w
}

type wireHandshakeParty struct {
	Id   string `json:"Id"`
	Type string `json:"Type"`
}

type wireHandshakeResource struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

type wireHandshake struct {
	Action              string                  `json:"Action"`
	Arn                 string                  `json:"Arn"`
	ExpirationTimestamp epochSeconds            `json:"ExpirationTimestamp"`
	Id                  string                  `json:"Id"`
	Parties             []wireHandshakeParty    `json:"Parties"`
	RequestedTimestamp  epochSeconds            `json:"RequestedTimestamp"`
	Resources           []wireHandshakeResource `json:"Resources"`
	State               string                  `json:"State"`
}

func toHandshake(h org.Handshake) wireHandshake {
	w := wireHandshake{Action: h.Action, Arn: h.ARN, ExpirationTimestamp: epochSeconds(h.ExpiresAt), Id: h.ID,
		RequestedTimestamp: epochSeconds(h.RequestedAt), State: h.State,
		Parties: []wireHandshakeParty{}, Resources: []wireHandshakeResource{}}
	for _, p := range h.Parties {
		w.Parties = append(w.Parties, wireHandshakeParty{Id: p.ID, Type: p.Type})
	}
	for _, r := range h.Resources {
		w.Resources = append(w.Resources, wireHandshakeResource{Type: r.Type, Value: r.Value})
	}
	return w
}

func optional(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html
func createAccountOp() operation {
	return op(true, func(ctx context.Context, s *Server, in *createAccountIn) (any, error) {
		if err := required("Email", in.Email, "AccountName", in.AccountName); err != nil {
			return nil, err
		}
		tags, err := tagMap(in.Tags)
		if err != nil {
			return nil, err
		}
		st, err := s.src.CreateAccount(ctx, sim.AccountSpec{
			Email: *in.Email, Name: *in.AccountName, RoleName: optional(in.RoleName),
			IAMUserAccessToBilling: optional(in.IamUserAccessToBilling), Tags: tags,
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{"CreateAccountStatus": toCreateAccountStatus(st)}, nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeCreateAccountStatus.html
func describeCreateAccountStatusOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *createAccountStatusIn) (any, error) {
		if err := required("CreateAccountRequestId", in.CreateAccountRequestId); err != nil {
			return nil, err
		}
		st, err := s.src.DescribeCreateAccountStatus(ctx, *in.CreateAccountRequestId)
		if err != nil {
			return nil, err
		}
		return map[string]any{"CreateAccountStatus": toCreateAccountStatus(st)}, nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RemoveAccountFromOrganization.html
func accountExitOp(closeIt bool) operation {
	return op(true, func(ctx context.Context, s *Server, in *accountIn) (any, error) {
		if err := required("AccountId", in.AccountId); err != nil {
			return nil, err
		}
		if closeIt {
			return struct{}{}, s.src.CloseAccount(ctx, *in.AccountId)
		}
		return struct{}{}, s.src.RemoveAccountFromOrganization(ctx, *in.AccountId)
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_InviteAccountToOrganization.html
func inviteAccountOp() operation {
	return op(true, func(ctx context.Context, s *Server, in *inviteIn) (any, error) {
		if in.Target == nil {
			return nil, apiErr(org.CodeInvalidInput, org.ReasonInputRequired, "You must specify a value for Target")
		}
		if err := required("Target.Id", in.Target.Id, "Target.Type", in.Target.Type); err != nil {
			return nil, err
		}
		if t := *in.Target.Type; !slices.Contains([]string{"ACCOUNT", "ORGANIZATION", "EMAIL"}, t) {
			return nil, apiErr(org.CodeInvalidInput, org.ReasonInvalidEnum, "Target.Type %q is not one of ACCOUNT, ORGANIZATION, EMAIL", t)
		}
		tags, err := tagMap(in.Tags)
		if err != nil {
			return nil, err
		}
		h, err := s.src.InviteAccountToOrganization(ctx, *in.Target.Id, *in.Target.Type, optional(in.Notes), tags)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Handshake": toHandshake(h)}, nil
	})
}

// actionTypes are the values of the ActionType enum.
var actionTypes = []string{"INVITE", "ENABLE_ALL_FEATURES", "APPROVE_ALL_FEATURES", "ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE", "TRANSFER_RESPONSIBILITY"}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListHandshakesForOrganization.html
func listHandshakesOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *listHandshakesIn) (any, error) {
		var action, parent string
		if f := in.Filter; f != nil {
			action, parent = optional(f.ActionType), optional(f.ParentHandshakeId)
			if action != "" && parent != "" {
				return nil, apiErr(org.CodeInvalidInput, org.ReasonMaxLimitExceededFilter, "Filter: specify ActionType or ParentHandshakeId, not both")
			}
			if action != "" && !slices.Contains(actionTypes, action) {
				return nil, apiErr(org.CodeInvalidInput, org.ReasonInvalidEnum, "Filter.ActionType %q is not a handshake action", action)
			}
		}
		items, next, err := page(s, "ListHandshakesForOrganization", action+"|"+parent, in.pageReq, func() ([]org.Handshake, error) {
			return s.src.ListHandshakesForOrganization(ctx, action, parent)
		})
		if err != nil {
			return nil, err
		}
		out := make([]wireHandshake, 0, len(items))
		for _, h := range items {
			out = append(out, toHandshake(h))
		}
		return listOut("Handshakes", out, next), nil
	})
}
