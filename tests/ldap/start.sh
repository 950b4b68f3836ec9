#!/usr/bin/env bash
# Starts a throwaway OpenLDAP slapd (Debian's slapd, installed when missing) on loopback: a new MDB
# database in a temporary directory with an organisation, a service account, three people and two
# entries sharing one uid, served as ldap:// (StartTLS offered) and ldaps:// with a certificate of
# a CA made here. Prints one line of shell assignments for tests/ldap/run.sh:
#   dir=… ldap_port=… ldaps_port=… pid=…
# Usage: eval "$(bash tests/ldap/start.sh)"; …; kill "$pid"; rm -rf "$dir"
set -euo pipefail
if ! command -v slapd >/dev/null || ! command -v slapadd >/dev/null; then
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null 2>&1 || true
fi
command -v slapd >/dev/null || { echo "slapd is not installed (apt-get install slapd ldap-utils)" >&2; exit 1; }
dir=$(mktemp -d)
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ldap_port=$(port)
ldaps_port=$(port)
# A CA and the directory's certificate for localhost and 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=softtoken test directory CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
mkdir -p "$dir/db"
cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
TLSCACertificateFile $dir/ca.pem
TLSCertificateFile $dir/server.pem
TLSCertificateKeyFile $dir/server.key
database mdb
maxsize 10485760
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw admin-$(python3 -c 'import secrets; print(secrets.token_hex(8))')
directory $dir/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by anonymous auth
CONF
cat >"$dir/people.ldif" <<'LDIF'
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=contractors,dc=example,dc=org
objectClass: organizationalUnit
ou: contractors

dn: cn=softtoken,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: softtoken
userPassword: service-account-password

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
mail: alice@example.org
userPassword: alice-directory-password

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Example
sn: Example
userPassword: bob-directory-password

dn: uid=twin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin
cn: Twin One
sn: One
userPassword: twin-one-password

dn: uid=twin,ou=contractors,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin
cn: Twin Two
sn: Two
userPassword: twin-two-password
LDIF
slapadd -f "$dir/slapd.conf" -l "$dir/people.ldif" >/dev/null 2>&1
slapd -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/ ldaps://127.0.0.1:$ldaps_port/" -d 0 >"$dir/slapd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  ldapsearch -x -H "ldap://127.0.0.1:$ldap_port" -b "" -s base >/dev/null 2>&1 && break
  sleep 0.1
done
echo "dir=$dir ldap_port=$ldap_port ldaps_port=$ldaps_port pid=$pid"
