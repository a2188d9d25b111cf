/*
 * Smallest useful program against an installed cscore: checks that header
 * and library agree on the version, feeds one epoch to a tracker and writes
 * the proxies as .npz, which pulls in libzip and zlib when linked
 * statically. scripts/check-package builds it with CMake and with
 * pkg-config.
 *
 * Usage: consumer OUTPUT.npz
 */
#include <cscore.h>

#include <stdio.h>

static int fail(const char *call, cs_status status)
{
    fprintf(stderr, "consumer: %s failed with %s: %s\n", call,
            cs_status_name(status), cs_last_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    const float logits[2 * 3] = {2.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
    const int32_t labels[2] = {0, 1};
    int32_t cbtl[2];
    cs_tracker_options options;
    cs_tracker *tracker = NULL;
    cs_status status;

    if (argc != 2) {
        fprintf(stderr, "Usage: consumer OUTPUT.npz\n");
        return 2;
    }
    if (cs_version_number() != CS_VERSION_NUMBER) {
        fprintf(stderr, "consumer: header is %s but library is %s\n",
                CS_VERSION_STRING, cs_version_string());
        return 1;
    }

    cs_tracker_options_init(&options);
    options.n_examples = 2;
    options.n_classes = 3;
    status = cs_tracker_create(&options, &tracker);
    if (status != CS_OK)
        return fail("cs_tracker_create", status);

    status = cs_observe_epoch(tracker, logits, labels, NULL, 2);
    if (status == CS_OK)
        status = cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 2);
    if (status == CS_OK)
        status = cs_tracker_export_npz(tracker, argv[1]);
    cs_tracker_free(tracker);
    if (status != CS_OK)
        return fail("observing or exporting", status);

    /* Example 0 is right (class 0 has the largest logit), example 1 wrong. */
    if (cbtl[0] != 1 || cbtl[1] != 0) {
        fprintf(stderr, "consumer: cbtl is {%d, %d}, expected {1, 0}\n",
                cbtl[0], cbtl[1]);
        return 1;
    }
    printf("consumer: cscore %s works\n", cs_version_string());
    return 0;
}
