# Starts moto's server (`python3 -m moto.server`'s arguments) for the zenfs tests
# (tests/moto_server.cc), with one fix: moto 5 under Werkzeug 3 checks a SigV4 signature
# over the request URL as Werkzeug rebuilds it, percent-escapes decoded ("delimiter=/",
# "a b.txt"), so a correctly signed request whose query or key needs escaping is refused
# with SignatureDoesNotMatch (boto3's own ListObjectsV2 with Delimiter='/' is refused
# too). Here the URL moto checks is the one sent (Werkzeug's RAW_URI), as AWS checks it.
# Nothing else of moto changes.
import sys
from urllib.parse import urlsplit, urlunsplit

from moto.core.responses import BaseResponse
from moto.server import main

_setup_class = BaseResponse.setup_class


def _setup_class_with_raw_uri(self, request, full_url, headers, *args, **kwargs):
    result = _setup_class(self, request, full_url, headers, *args, **kwargs)
    raw = getattr(request, "environ", {}).get("RAW_URI")
    if raw:
        parts = urlsplit(self.uri)
        path, _, query = raw.partition("?")
        self.uri = urlunsplit((parts.scheme, parts.netloc, path, query, ""))
    return result


BaseResponse.setup_class = _setup_class_with_raw_uri

if __name__ == "__main__":
    main(sys.argv[1:])
