package simserver

import (
	"context"
	"errors"
	"fmt"
	"net"
)

type netListener = net.Listener

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrListen, addr, err)
	}
	return ln, nil
}

// ErrListen is returned by Serve when it cannot listen on the address.
var ErrListen = errors.New("cannot listen")
