import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { GrpcMethodLabels, GrpcMetrics } from './metrics.ts';

/** `/joule.v1.QueryService/GetBlock` as its labels. */
export function methodLabels(path: string, requestStream: boolean, responseStream: boolean): GrpcMethodLabels {
  const p = path.replace(/^\//, '');
  const slash = p.lastIndexOf('/');
  const type = requestStream ? (responseStream ? 'bidi_stream' : 'client_stream') : responseStream ? 'server_stream' : 'unary';
  return { service: p.slice(0, slash), method: p.slice(slash + 1), type };
}

/**
 * A server interceptor counting every call of every hosted service: started, ended by
 * status, open, messages each way. grpc-js runs interceptors only for methods a service
 * registered (an unknown method is answered UNIMPLEMENTED before), so the labels stay
 * bounded by the services hosted. A call ends once: with the status the server sends, or
 * CANCELLED when the client or its connection goes first.
 */
export function callMetricsInterceptor(metrics: GrpcMetrics): ServerInterceptor {
  return (definition, next) => {
    const labels = methodLabels(definition.path, definition.requestStream, definition.responseStream);
    let ended = false;
    const end = (code: number) => {
      if (ended) return;
      ended = true;
      metrics.callEnded(labels, status[code] ?? String(code));
    };
    metrics.callStarted(labels);
    return new ServerInterceptingCall(next, {
      start: (go) =>
        go({
          onReceiveMessage: (message, pass) => {
            metrics.messageReceived(labels);
            pass(message);
          },
          onCancel: () => end(status.CANCELLED),
        }),
      sendMessage: (message, pass) => {
        metrics.messageSent(labels);
        pass(message);
      },
      sendStatus: (s, pass) => {
        end(s.code);
        pass(s);
      },
    });
  };
}
