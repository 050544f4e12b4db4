// Command etcdmember runs one member of an etcd cluster, embedded, for
// lastmodd's tests and benchmarks: they start a cluster of these as
// processes, on 127.0.0.1, kill members with SIGKILL and start them again
// on their data, with nothing to install. It is no way to run etcd in
// production: it does not fsync (a killed process loses nothing the
// kernel has, but a power loss would lose recent writes).
//
// It prints "etcdmember: ready" on stdout once the member serves
// clients, and runs until SIGINT or SIGTERM, or SIGKILL.
//
// Usage:
//
//	etcdmember -name m0 -dir DIR -peer http://127.0.0.1:P -client http://127.0.0.1:C
//	           -initial-cluster m0=http://127.0.0.1:P,… [-token T]
//	           [-tls-cert FILE -tls-key FILE [-tls-client-ca FILE]] [-root-password FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "etcdmember:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		name, dir, peer, client, initial, token string
		cert, key, clientCA, rootPassword       string
	)
	flag.StringVar(&name, "name", "m0", "member name")
	flag.StringVar(&dir, "dir", "", "data directory (kept across restarts)")
	flag.StringVar(&peer, "peer", "", "peer URL")
	flag.StringVar(&client, "client", "", "client URL (https with -tls-cert)")
	flag.StringVar(&initial, "initial-cluster", "", "name=peerURL,… of every member")
	flag.StringVar(&token, "token", "etcdmember", "initial cluster token")
	flag.StringVar(&cert, "tls-cert", "", "PEM certificate to serve clients with")
	flag.StringVar(&key, "tls-key", "", "PEM key of -tls-cert")
	flag.StringVar(&clientCA, "tls-client-ca", "", "PEM CA: clients must present a certificate it signed")
	flag.StringVar(&rootPassword, "root-password", "", "file holding a password: once ready, add user root with it and enable authentication")
	flag.Parse()
	if dir == "" || peer == "" || client == "" {
		return errors.New("-dir, -peer and -client are required")
	}
	peerURL, err := url.Parse(peer)
	if err != nil {
		return err
	}
	clientURL, err := url.Parse(client)
	if err != nil {
		return err
	}
	if initial == "" {
		initial = name + "=" + peer
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = dir
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peerURL}, []url.URL{*peerURL}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*clientURL}, []url.URL{*clientURL}
	cfg.InitialCluster = initial
	cfg.InitialClusterToken = token
	// Quick elections after a member is killed, without spurious ones on
	// a busy machine.
	cfg.TickMs = 50
	cfg.ElectionMs = 500
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if cert != "" {
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: cert, KeyFile: key, TrustedCAFile: clientCA, ClientCertAuth: clientCA != ""}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return err
	case <-time.After(time.Minute):
		return errors.New("not ready within a minute")
	}
	if rootPassword != "" {
		if err := enableAuth(e, rootPassword); err != nil {
			return fmt.Errorf("enable authentication: %w", err)
		}
	}
	fmt.Println("etcdmember: ready")
	select {
	case <-sigs:
		return nil
	case err := <-e.Err():
		return err
	}
}

// enableAuth adds user root, with the password in file, and turns
// authentication on, through the member's server itself: no client, so
// no client certificate, is needed.
func enableAuth(e *embed.Etcd, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	password := strings.TrimRight(string(b), "\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.Server.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "root", Password: password}); err != nil {
		return err
	}
	if _, err := e.Server.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "root", Role: "root"}); err != nil {
		return err
	}
	_, err = e.Server.AuthEnable(ctx, &pb.AuthEnableRequest{})
	return err
}
