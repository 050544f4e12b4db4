module github.com/lastmodstore/lastmodstore/peers

go 1.25.0

replace github.com/lastmodstore/lastmodstore => ../

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/jellydator/ttlcache/v3 v3.4.1
	github.com/lastmodstore/lastmodstore v0.0.0-00010101000000-000000000000
	github.com/maypok86/otter/v2 v2.4.0
	github.com/patrickmn/go-cache v2.1.0+incompatible
	github.com/puzpuzpuz/xsync/v4 v4.5.0
	go.uber.org/goleak v1.3.0
)

require golang.org/x/sync v0.21.0 // indirect
