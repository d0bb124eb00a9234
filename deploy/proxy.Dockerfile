# The reverse proxy in front of the portal: Debian's nginx. It reads each request
# whole before the portal sees it (a slow or half-sent request costs nginx a few
# kilobytes, never a portal thread) and serves /static/ itself.
ARG BASE=dlgrade-base:bookworm
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && rm -f /etc/nginx/sites-enabled/default
COPY nginx.conf /etc/nginx/nginx.conf
COPY static/ /srv/static/
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
