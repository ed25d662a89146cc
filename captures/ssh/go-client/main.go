// go-client HOST PORT: Go's golang.org/x/crypto/ssh (Debian's golang-golang-x-crypto-dev, built
// in GOPATH mode against /usr/share/gocode, since Go module downloads are not to be had here)
// connects once with its default algorithm settings, accepts any host key, tries user "test"
// with a wrong password. Prints "key exchange completed" once the HostKeyCallback ran (x/crypto
// calls it after verifying the key-exchange reply's signature), else the error.
// Exit status 0 once key exchange completed, 1 if not.
package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-client HOST PORT")
		os.Exit(2)
	}
	kexDone := false
	config := &ssh.ClientConfig{
		User: "test",
		Auth: []ssh.AuthMethod{ssh.Password("wrong-password")},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			kexDone = true
			return nil
		},
		Timeout: 20 * time.Second,
	}
	client, err := ssh.Dial("tcp", net.JoinHostPort(os.Args[1], os.Args[2]), config)
	switch {
	case err == nil:
		fmt.Fprintln(os.Stderr, "key exchange completed; authenticated?")
		client.Close()
	case kexDone:
		fmt.Fprintln(os.Stderr, "key exchange completed; authentication:", err)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	if !kexDone {
		os.Exit(1)
	}
}
