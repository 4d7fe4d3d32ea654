/* Demo mode: a simulated Reolink camera (lib/sim) runs in the same process
 * and loop, on 127.0.0.1 and a free port, and is served as camera "demo"
 * like any configured one (its own Baichuan session, login and all). Small
 * streams keep the encoder cheap on any machine: it only encodes while a
 * stream is watched. */
#include <string.h>

#include "core/log.h"
#include "neolink/error.h"
#include "server/server_int.h"

#define WHO "demo"

int nl__demo_start(nl_server *srv)
{
    nl_sim_config sc;
    nl_sim_config_init(&sc);
    sc.listen_host = "127.0.0.1";
    sc.port = 0;
    sc.stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){1280, 720, 25, 2048};
    sc.stream[NL_SIM_STREAM_SUB] = (nl_sim_stream_config){640, 360, 15, 512};
    sc.motion_interval_ms = 0;
    int rc = nl_sim_create(&srv->demo_sim, srv->ctx, srv->loop, &sc);
    if (rc < 0) {
        NL_LOGE(srv->ctx, WHO, "cannot start the simulated camera: %s", nl_strerror(rc));
        return rc;
    }
    nl_config_camera *c = &srv->demo_cam;
    nl_config_camera_defaults(c);
    c->name = "demo";
    c->host = "127.0.0.1";
    c->port = nl_sim_port(srv->demo_sim);
    /* The simulator has a main and a sub stream, no extern one. */
    c->stream = NL_CFG_STREAM_BOTH;
    NL_LOGI(srv->ctx, WHO, "simulated camera listening on 127.0.0.1:%u", c->port);
    return 0;
}

void nl__demo_stop(nl_server *srv)
{
    nl_sim_destroy(&srv->demo_sim);
}
