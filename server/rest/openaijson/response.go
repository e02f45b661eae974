package openaijson

import (
	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// AppendModelList appends m as OpenAI's {"object":"list","data":[...]}.
func AppendModelList(dst []byte, m *switchyardv1.ListModelsResponse) []byte {
	dst = append(dst, `{"object":"list","data":[`...)
	for i, md := range m.GetData() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendModel(dst, md)
	}
	return append(dst, "]}"...)
}

// AppendModel appends m as an OpenAI model object. Where Switchyard serves
// it from goes in a "switchyard" block, present only when there is
// something to say.
func AppendModel(dst []byte, m *switchyardv1.Model) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, m.GetId())
	dst = append(dst, `,"object":"model","created":`...)
	dst = appendInt(dst, m.GetCreated())
	dst = append(dst, `,"owned_by":`...)
	dst = appendString(dst, m.GetOwnedBy())
	if len(m.GetProviders()) > 0 || m.GetAlias() {
		dst = append(dst, `,"switchyard":{"providers":[`...)
		for i, p := range m.GetProviders() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, p)
		}
		dst = append(dst, `],"alias":`...)
		dst = appendBool(dst, m.GetAlias())
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendError appends OpenAI's error object:
// {"error":{"message":...,"type":...,"param":...,"code":...}}, with param
// and code null when empty.
func AppendError(dst []byte, message, typ, param, code string) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = appendString(dst, message)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = appendStringOrNull(dst, param)
	dst = append(dst, `,"code":`...)
	dst = appendStringOrNull(dst, code)
	return append(dst, "}}"...)
}
